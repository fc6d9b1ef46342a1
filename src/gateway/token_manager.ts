/**
 * `createTokenManager`: the `TokenManager` a loaded configuration describes. Kept apart from
 * the gateway's routes because `main.ts`, `worker.ts` and library users with `loadConfig`
 * all wire a manager the same way.
 *
 * @module
 */
import type { AqcConfig } from "../config/load_config.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { MemoryTokenStore } from "../store/memory_store.ts";
import type { TokenStore } from "../store/store.ts";
import { createUpstashRest } from "../store/upstash_rest.ts";
import { type UpstashRedisClient, UpstashTokenStore } from "../store/upstash_store.ts";
import { TokenManager } from "../token/manager.ts";
import type { TokenEvent } from "../token/types.ts";

/** Options of {@linkcode createTokenManager}. */
export interface CreateTokenManagerOptions {
  /** Transport for token requests; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms clock. */
  now?: () => number;
  /** Token events (fetches, hits, failures). */
  onEvent?: (event: TokenEvent) => void;
  /** A ready store, instead of the one the configuration describes. */
  store?: TokenStore;
  /** An Upstash client to use instead of one built from `UPSTASH_*` (e.g. Workers'). */
  redis?: UpstashRedisClient;
  /** Timeout of each store call in ms; default `config.storeTimeoutMs`. */
  storeTimeoutMs?: number;
  /** Wraps the store the configuration describes (e.g. telemetry of store calls). */
  wrapStore?: (store: TokenStore) => TokenStore;
}

function storeFor(
  config: AqcConfig,
  options: CreateTokenManagerOptions,
  storeTimeoutMs: number,
): TokenStore {
  if (options.store !== undefined) return options.store;
  if (config.upstash === undefined || config.tokenKey === undefined) {
    return new MemoryTokenStore(options.now ? { now: options.now } : {});
  }
  if (options.redis !== undefined) {
    return new UpstashTokenStore({ redis: options.redis, encryptionKey: config.tokenKey });
  }
  // The gateway's own fetch-only client, not @upstash/redis (docs/ARCHITECTURE.md).
  return new UpstashTokenStore({
    redis: createUpstashRest({
      url: config.upstash.url,
      token: config.upstash.token,
      timeoutMs: storeTimeoutMs,
    }),
    encryptionKey: config.tokenKey,
  });
}

/**
 * Builds the `TokenManager` a configuration describes: an Upstash store when `UPSTASH_*` is
 * set (the gateway's fetch-only client: one attempt, a short timeout), else a
 * `MemoryTokenStore`. Safe at Worker module scope: nothing random, no timer and no I/O happens
 * until the first token.
 *
 * @example
 * ```ts
 * import { createTokenManager, loadConfig } from "@aqc-edge/aqc-edge/gateway";
 *
 * const config = loadConfig({
 *   AQC_API_URL: "https://test.travel.api.amadeus.com",
 *   AQC_CLIENT_ID: "my-client-id",
 *   AQC_CLIENT_SECRET: "my-client-secret",
 * }, { requireGatewayKeys: false });
 * const tokens = createTokenManager(config);
 * if (tokens.apiUrl !== "https://test.travel.api.amadeus.com") throw new Error("unexpected");
 * ```
 *
 * @param config The loaded configuration.
 * @param options Transport, clock, events, store overrides.
 * @returns The token manager.
 */
export function createTokenManager(
  config: AqcConfig,
  options: CreateTokenManagerOptions = {},
): TokenManager {
  const storeTimeoutMs = options.storeTimeoutMs ?? config.storeTimeoutMs;
  return new TokenManager({
    credentials: config.credentials,
    store: options.wrapStore === undefined
      ? storeFor(config, options, storeTimeoutMs)
      : options.wrapStore(storeFor(config, options, storeTimeoutMs)),
    refreshAheadSeconds: config.refreshAheadSeconds,
    expirySkewSeconds: config.expirySkewSeconds,
    refreshJitterSeconds: config.refreshJitterSeconds,
    tokenRequestTimeoutMs: config.tokenRequestTimeoutMs,
    retryDeadlineMs: config.retryDeadlineMs,
    storeTimeoutMs,
    // A listed office is never dropped for lack of room: the list already bounds memory.
    maxOffices: Math.max(DEFAULTS.maxOffices, config.offices?.length ?? 0),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
}
