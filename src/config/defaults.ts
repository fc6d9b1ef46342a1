/**
 * `DEFAULTS`: the one table of default values, read by the library (`TokenManager`,
 * `createAqcFetch`), `loadConfig`, the gateway and checked against the README's
 * configuration table by a test, so the three can no longer disagree.
 *
 * @module
 */

/** Every tunable default of aqc-edge, in the unit its name says. */
export interface Defaults {
  /** Refresh this many seconds before expiry (plus jitter); `AQC_REFRESH_AHEAD_S`. */
  readonly refreshAheadSeconds: number;
  /** Never send a token closer than this to its expiry; `AQC_EXPIRY_SKEW_S`. */
  readonly expirySkewSeconds: number;
  /** Upper bound of the per-isolate random refresh jitter; `AQC_REFRESH_JITTER_S`. */
  readonly refreshJitterSeconds: number;
  /** Timeout of one token request; `AQC_TOKEN_TIMEOUT_MS`. */
  readonly tokenRequestTimeoutMs: number;
  /** Deadline of all attempts of one refresh; `AQC_TOKEN_DEADLINE_MS`. */
  readonly retryDeadlineMs: number;
  /** First retry delay cap (doubles each attempt, full jitter). */
  readonly retryBaseDelayMs: number;
  /** Largest retry delay cap. */
  readonly retryMaxDelayMs: number;
  /** Timeout of one store (Redis) call; slower counts as a miss; `AQC_STORE_TIMEOUT_MS`. */
  readonly storeTimeoutMs: number;
  /** Seconds a `credentials_rejected` answer is negative-cached. */
  readonly rejectedCacheSeconds: number;
  /** Seconds a transient failure is shared so waiters fail together. */
  readonly transientFailureSeconds: number;
  /** Seconds a `token_endpoint_misconfigured` or `token_request_rejected` answer is cached. */
  readonly misconfiguredCacheSeconds: number;
  /** An office's token is evicted at most once in this many seconds (401 floods). */
  readonly evictionWindowSeconds: number;
  /** Offices a manager keeps entries for (least recently used beyond). */
  readonly maxOffices: number;
  /** Token requests offices new to a manager may make at once (bucket size). */
  readonly newOfficeBurst: number;
  /** Refill rate of that bucket, per second. */
  readonly newOfficesPerSecond: number;
  /** Consecutive 429/5xx/timeouts from the token endpoint that open the circuit. */
  readonly breakerThreshold: number;
  /** Timeout of one upstream AQC call; `AQC_UPSTREAM_TIMEOUT_MS`. */
  readonly upstreamTimeoutMs: number;
  /** Largest request body the gateway forwards; `AQC_MAX_BODY_BYTES`. */
  readonly maxBodyBytes: number;
}

/**
 * The defaults. Frozen: a caller cannot change what every other module reads.
 *
 * @example
 * ```ts
 * import { DEFAULTS } from "@aqc-edge/aqc-edge/gateway";
 *
 * if (DEFAULTS.refreshAheadSeconds !== 300) throw new Error("unexpected");
 * if (!Object.isFrozen(DEFAULTS)) throw new Error("unexpected");
 * ```
 */
export const DEFAULTS: Defaults = Object.freeze({
  refreshAheadSeconds: 300,
  expirySkewSeconds: 30,
  refreshJitterSeconds: 60,
  tokenRequestTimeoutMs: 5_000,
  retryDeadlineMs: 10_000,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 2_000,
  // One value for library and gateway (the library said 1,000, the gateway 500): a Redis
  // round trip in-region is a few ms, and a slow store is only a cache miss.
  storeTimeoutMs: 500,
  rejectedCacheSeconds: 60,
  transientFailureSeconds: 2,
  misconfiguredCacheSeconds: 10,
  evictionWindowSeconds: 30,
  maxOffices: 1_000,
  newOfficeBurst: 100,
  newOfficesPerSecond: 10,
  breakerThreshold: 5,
  upstreamTimeoutMs: 30_000,
  maxBodyBytes: 1_048_576,
});
