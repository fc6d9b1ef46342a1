/**
 * `createUpstashTokenStore`: an {@linkcode UpstashTokenStore} with an `@upstash/redis` client
 * configured the way the store is tested (the `./upstash` entry; it imports `@upstash/redis`).
 *
 * @module
 */
import { Redis } from "@upstash/redis/cloudflare";
import { validateUpstashOptions } from "./upstash_options.ts";
import { type UpstashRedisClient, UpstashTokenStore } from "./upstash_store.ts";

/** Options of {@linkcode createUpstashTokenStore}. */
export interface CreateUpstashTokenStoreOptions {
  /** The database's REST URL (`UPSTASH_REDIS_REST_URL`). */
  url: string;
  /** Its REST token (`UPSTASH_REDIS_REST_TOKEN`). Never logged. */
  token: string;
  /** base64url of 32 random bytes (`AQC_TOKEN_KEY`; `deno task keygen`). */
  encryptionKey: string;
  /** Earlier encryption keys still read during a rotation. */
  previousEncryptionKeys?: string[];
  /**
   * Upper bound of one Redis call, in ms (a fresh `AbortSignal.timeout` per request).
   * Default 500. Keep it at or below `TokenManager`'s `storeTimeoutMs`.
   */
  timeoutMs?: number;
  /** Epoch ms clock for TTLs; default `Date.now`. */
  now?: () => number;
}

/**
 * The `@upstash/redis` options this project relies on, each set explicitly:
 *
 * - `retry: { retries: 0 }`: exactly one attempt. In 1.39.0 `retry: false` means
 *   `attempts: 1` in a loop of `i <= attempts`, i.e. two; `{ retries: 0 }` is one. The
 *   manager has its own budget and fallback; a retry would only double a slow call.
 * - `signal` in the function form: a fresh timeout per request. An `AbortSignal` object is
 *   shared by every request (it fires once, for all of them) and in 1.39.0 turns an abort into
 *   a *successful* answer whose result is the abort reason.
 * - `automaticDeserialization: false`: records are strings and must come back unchanged.
 * - `enableAutoPipelining: false`: one HTTP request per store call, so each call has its own
 *   timeout and reads are never batched with writes (Upstash sends a batch that holds a
 *   write to the primary; alone, `MGET` may be served by a replica, as documented).
 * - `readYourWrites: true`: the client's own writes are visible to its next read (sync
 *   token), which the store does not rely on for other isolates' writes (`fresh` reads do that).
 * - `enableTelemetry: false`, and the `/cloudflare` build, which reads no environment
 *   variable (the Node build reads `process.env` at construction, which a narrowed Deno
 *   `--allow-env` turns into a permission error).
 *
 * @param options URL, token, timeout.
 * @returns A client that fits {@linkcode UpstashRedisClient}.
 */
export function createUpstashRedis(
  options: Pick<CreateUpstashTokenStoreOptions, "url" | "token" | "timeoutMs">,
): UpstashRedisClient {
  const { url, timeoutMs } = validateUpstashOptions(options);
  return new Redis({
    url,
    token: options.token,
    retry: { retries: 0 },
    signal: () => AbortSignal.timeout(timeoutMs),
    automaticDeserialization: false,
    enableAutoPipelining: false,
    readYourWrites: true,
    enableTelemetry: false,
  });
}

/**
 * Creates the shared token store on Upstash in one call.
 *
 * @example
 * ```ts ignore
 * import { createUpstashTokenStore } from "@aqc-edge/aqc-edge/upstash";
 *
 * const store = createUpstashTokenStore({
 *   url: Deno.env.get("UPSTASH_REDIS_REST_URL")!,
 *   token: Deno.env.get("UPSTASH_REDIS_REST_TOKEN")!,
 *   encryptionKey: Deno.env.get("AQC_TOKEN_KEY")!,
 *   timeoutMs: 500,
 * });
 * ```
 *
 * @param options URL, token, encryption key(s), timeout.
 * @returns The store.
 * @throws {AqcError} `config_invalid` for a bad URL, token, key or timeout (never quoting them).
 */
export function createUpstashTokenStore(
  options: CreateUpstashTokenStoreOptions,
): UpstashTokenStore {
  return new UpstashTokenStore({
    redis: createUpstashRedis(options),
    encryptionKey: options.encryptionKey,
    ...(options.previousEncryptionKeys === undefined
      ? {}
      : { previousEncryptionKeys: options.previousEncryptionKeys }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}
