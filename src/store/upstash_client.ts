/**
 * PLACEHOLDER of the "entries" branch, so the `./upstash` entry compiles; the store helper's
 * `src/store/upstash_client.ts` replaces this file at merge (keep theirs).
 *
 * `createUpstashTokenStore`: an {@linkcode UpstashTokenStore} on an `@upstash/redis` client
 * with the options the token layer needs (no retries, a short timeout, no telemetry).
 *
 * @example
 * ```ts ignore
 * import { createUpstashTokenStore } from "@aqc-edge/aqc-edge/upstash";
 * import { TokenManager } from "@aqc-edge/aqc-edge";
 *
 * const store = createUpstashTokenStore({
 *   url: Deno.env.get("UPSTASH_REDIS_REST_URL")!,
 *   token: Deno.env.get("UPSTASH_REDIS_REST_TOKEN")!,
 *   encryptionKey: Deno.env.get("AQC_TOKEN_KEY")!,
 * });
 * const tokens = new TokenManager({ credentials, store });
 * ```
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { DEFAULTS } from "../config/defaults.ts";
import { UpstashTokenStore } from "./upstash_store.ts";

/** Options of {@linkcode createUpstashTokenStore}. */
export interface CreateUpstashTokenStoreOptions {
  /** `UPSTASH_REDIS_REST_URL`. */
  url: string;
  /** `UPSTASH_REDIS_REST_TOKEN`; a secret. */
  token: string;
  /** `AQC_TOKEN_KEY`: base64url of 32 random bytes. */
  encryptionKey: string;
  /** Timeout of one Redis call in ms; default `DEFAULTS.storeTimeoutMs`. */
  timeoutMs?: number;
}

/**
 * Builds an {@linkcode UpstashTokenStore} on a new `@upstash/redis` client: retries off
 * (the token layer has its own), a per-command timeout, telemetry off.
 *
 * @param options URL, token, encryption key and timeout.
 * @returns The store.
 */
export function createUpstashTokenStore(
  options: CreateUpstashTokenStoreOptions,
): UpstashTokenStore {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.storeTimeoutMs;
  const redis = new Redis({
    url: options.url,
    token: options.token,
    retry: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
  });
  return new UpstashTokenStore({ redis, encryptionKey: options.encryptionKey });
}

export {
  type UpstashRedisClient,
  UpstashTokenStore,
  type UpstashTokenStoreOptions,
} from "./upstash_store.ts";
