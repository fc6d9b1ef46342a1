/**
 * aqc-edge: an edge-native token layer for Amadeus Quick Connect (AQC).
 *
 * It obtains OAuth2 client-credentials tokens per `guest_office_id`, caches them in this
 * isolate (L1) and in a shared store such as Upstash Redis (L2), refreshes them before
 * they expire with one token request per office across the fleet, and gives an
 * authenticated AQC `fetch` that survives expiry, 401s and outages.
 *
 * @example
 * ```ts ignore
 * import { createAqcFetch, TokenManager } from "@aqc-edge/aqc-edge";
 *
 * const tokens = new TokenManager({
 *   credentials: {
 *     apiUrl: "https://test.travel.api.amadeus.com",
 *     clientId: Deno.env.get("AQC_CLIENT_ID")!,
 *     clientSecret: Deno.env.get("AQC_CLIENT_SECRET")!,
 *   },
 * });
 * const aqc = createAqcFetch({ tokens });
 * const response = await aqc("NCE1A0955", "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1");
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
export { type PrewarmResult, TokenManager, type TokenManagerOptions } from "./token/manager.ts";
export {
  type IssuedToken,
  MAX_TOKEN_LIFETIME_S,
  parseTokenResponse,
  requestToken,
  type RequestTokenOptions,
  TOKEN_PATH,
  type TokenResponse,
} from "./token/request.ts";
export { parseRetryAfter } from "./token/retry_after.ts";
export { validateApiUrl, validateCredentials } from "./token/credentials.ts";
export {
  type AqcFetch,
  type AqcRequestInit,
  createAqcFetch,
  type CreateAqcFetchOptions,
  type TokenTiming,
} from "./fetch/aqc_fetch.ts";
export { resolveAqcUrl } from "./fetch/aqc_path.ts";
export {
  REDIS_KEY_PREFIX,
  type UpstashRedisClient,
  UpstashTokenStore,
  type UpstashTokenStoreOptions,
} from "./store/upstash_store.ts";
export {
  type AqcConfig,
  ConfigError,
  type GatewayKey,
  generateGatewayKey,
  generateTokenKey,
  loadConfig,
  type LoadConfigOptions,
  type UpstashConfig,
} from "./config/load_config.ts";
export {
  createGateway,
  createTokenManager,
  type CreateTokenManagerOptions,
  type GatewayApp,
  type GatewayEnv,
  type GatewayExecutionContext,
  type GatewayLogEntry,
  type GatewayOptions,
} from "./gateway/create_gateway.ts";
export { problem, type ProblemCode, type ProblemOptions } from "./gateway/problem.ts";
