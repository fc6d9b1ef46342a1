/**
 * aqc-edge: an edge-native token layer for Amadeus Quick Connect (AQC).
 *
 * It obtains OAuth2 client-credentials tokens per `guest_office_id`, caches them in this
 * isolate (L1) and in a shared store such as Upstash Redis (L2), refreshes them before
 * they expire with one token request per office across the fleet, and gives an
 * authenticated AQC `fetch` that survives expiry, 401s and outages.
 *
 * This entry is the token layer only: its module graph holds no npm package, so it runs on
 * any runtime with `fetch` and WebCrypto. Other entries: `./gateway` (the Hono gateway,
 * `loadConfig`, `problemFromError`), `./upstash` (`createUpstashTokenStore`), `./testing`
 * (a `TokenStore` conformance suite) and `./worker` (the Cloudflare Workers entry,
 * workerd only). Every constructor here is safe at Worker module scope.
 *
 * @example
 * ```ts
 * import { createAqcFetch, isAqcError, TokenManager } from "@aqc-edge/aqc-edge";
 *
 * const tokens = new TokenManager({
 *   credentials: {
 *     apiUrl: "https://test.travel.api.amadeus.com",
 *     clientId: "my-client-id",
 *     clientSecret: "my-client-secret",
 *   },
 * });
 * const aqc = createAqcFetch({ tokens });
 * // An invalid office id fails before any network call.
 * const refused = await aqc("NCE", "/v1/reference-data/locations").catch((error) => error);
 * if (!isAqcError(refused, "office_invalid")) throw new Error("expected office_invalid");
 * ```
 *
 * @module
 */
export { AqcError, type AqcErrorCode, type AqcErrorOptions, isAqcError } from "./errors.ts";
export { normalizeOfficeId } from "./office.ts";
export type {
  AccessToken,
  Credentials,
  GetTokenOptions,
  TokenEvent,
  TokenSource,
} from "./token/types.ts";
export type {
  ReadOptions,
  StoredEntry,
  StoredFailure,
  StoredToken,
  TokenStore,
} from "./store/store.ts";
export { MemoryTokenStore, type MemoryTokenStoreOptions } from "./store/memory_store.ts";
export {
  type OfficeTokenState,
  type PrewarmResult,
  TokenManager,
  type TokenManagerOptions,
} from "./token/manager.ts";
export {
  type AqcFetch,
  type AqcRequestInit,
  createAqcFetch,
  type CreateAqcFetchOptions,
  type TokenTiming,
} from "./fetch/aqc_fetch.ts";
export {
  type UpstashRedisClient,
  UpstashTokenStore,
  type UpstashTokenStoreOptions,
} from "./store/upstash_store.ts";
