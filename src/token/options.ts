/**
 * The options of `TokenManager`, their defaults and their validation.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { MemoryTokenStore } from "../store/memory_store.ts";
import type { TokenStore } from "../store/store.ts";
import { validateCredentials } from "./credentials.ts";
import type { Credentials, TokenEvent } from "./types.ts";

/** Options of `TokenManager`. */
export interface TokenManagerOptions {
  /** The AQC API root, client id and client secret. */
  credentials: Credentials;
  /** The shared cache (L2); default a new `MemoryTokenStore` (this isolate only). */
  store?: TokenStore;
  /** Refresh this many seconds before expiry (plus jitter); default 300. */
  refreshAheadSeconds?: number;
  /** Never send a token closer than this to its expiry; default 30. */
  expirySkewSeconds?: number;
  /** Upper bound of the per-isolate random refresh jitter; default 60. */
  refreshJitterSeconds?: number;
  /** Transport for token requests; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
  /** Uniform random numbers in [0, 1) for every jitter; default `Math.random`. */
  random?: () => number;
  /** Called for every hit, fetch, refresh and failure; must not throw (errors are ignored). */
  onEvent?: (event: TokenEvent) => void;
  /** Timeout of one token request in ms (100 or more); default 5,000. */
  tokenRequestTimeoutMs?: number;
  /** Deadline for all attempts of one refresh in ms (100 or more); default 10,000. */
  retryDeadlineMs?: number;
  /** First retry delay cap in ms (doubles each attempt, full jitter); default 200. */
  retryBaseDelayMs?: number;
  /** Largest retry delay cap in ms; default 2,000. */
  retryMaxDelayMs?: number;
  /** Timeout of one store call in ms (10 or more); a slower store is a miss; default 500. */
  storeTimeoutMs?: number;
  /** Seconds a `credentials_rejected` answer is negative-cached; default 60. */
  rejectedCacheSeconds?: number;
  /**
   * Seconds a `token_endpoint_misconfigured` or `token_request_rejected` answer is
   * negative-cached; default 10 (short: a fixed URL or form should take effect soon).
   */
  misconfiguredCacheSeconds?: number;
  /** Seconds a transient failure is shared so waiters fail together; default 2. */
  transientFailureSeconds?: number;
  /**
   * After `invalidate` evicted an office's token, further evictions of that office are
   * refused for this many seconds, so callers cannot make it spend a token per call;
   * default 30; 0 honours every eviction.
   */
  evictionWindowSeconds?: number;
  /** Offices kept in this manager's memory (least recently used dropped); default 1,000. */
  maxOffices?: number;
  /**
   * Token requests that offices new to this manager may make at once (a token bucket;
   * `prewarm` is exempt); default 100.
   */
  newOfficeBurst?: number;
  /** Refill rate of that bucket per second; default 10. */
  newOfficesPerSecond?: number;
  /** Consecutive 429/5xx/timeouts that open the token endpoint circuit; default 5. */
  breakerThreshold?: number;
}

/** The options with every default applied, times in ms. */
export interface ResolvedOptions {
  credentials: Credentials;
  store: TokenStore;
  fetch: typeof fetch | undefined;
  now: () => number;
  random: () => number;
  onEvent: ((event: TokenEvent) => void) | undefined;
  refreshAheadMs: number;
  skewMs: number;
  jitterMs: number;
  requestTimeoutMs: number;
  deadlineMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  storeTimeoutMs: number;
  rejectedMs: number;
  misconfiguredMs: number;
  transientMs: number;
  evictionWindowMs: number;
  maxOffices: number;
  newOfficeBurst: number;
  newOfficesPerSecond: number;
  breakerThreshold: number;
}

/**
 * Floors of the token request timeout and deadline, and of the store timeout, in ms: the
 * same as `loadConfig`'s for the variables, because below them nothing can succeed (a 0 ms
 * deadline gave every attempt 1 ms, so a healthy endpoint never issued a token).
 */
const MIN_REQUEST_MS = 100;
const MIN_STORE_MS = 10;

/**
 * Validates the options and applies the defaults. Does no random, timer or I/O work, so
 * a manager can be built at Worker module scope.
 *
 * @param options As given.
 * @returns The resolved options.
 * @throws {AqcError} `config_invalid` naming the option that is wrong.
 */
export function resolveOptions(options: TokenManagerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new AqcError("config_invalid", "TokenManager options are required");
  }
  const credentials = validateCredentials(options.credentials);
  const now = options.now ?? Date.now;
  const number = (name: keyof TokenManagerOptions, fallback: number, min = 0): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
      throw new AqcError("config_invalid", `${name} must be a number of ${min} or more`);
    }
    return value;
  };
  for (const name of ["now", "random", "fetch", "onEvent"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new AqcError("config_invalid", `${name} must be a function`);
    }
  }
  return {
    credentials,
    store: options.store ?? new MemoryTokenStore({ now }),
    fetch: options.fetch,
    now,
    // Looked up per call, not captured: a runtime may swap or guard it at module scope.
    random: options.random ?? (() => Math.random()),
    onEvent: options.onEvent,
    refreshAheadMs: number("refreshAheadSeconds", DEFAULTS.refreshAheadSeconds) * 1000,
    skewMs: number("expirySkewSeconds", DEFAULTS.expirySkewSeconds) * 1000,
    jitterMs: number("refreshJitterSeconds", DEFAULTS.refreshJitterSeconds) * 1000,
    requestTimeoutMs: number(
      "tokenRequestTimeoutMs",
      DEFAULTS.tokenRequestTimeoutMs,
      MIN_REQUEST_MS,
    ),
    deadlineMs: number("retryDeadlineMs", DEFAULTS.retryDeadlineMs, MIN_REQUEST_MS),
    baseDelayMs: number("retryBaseDelayMs", DEFAULTS.retryBaseDelayMs),
    maxDelayMs: number("retryMaxDelayMs", DEFAULTS.retryMaxDelayMs),
    storeTimeoutMs: number("storeTimeoutMs", DEFAULTS.storeTimeoutMs, MIN_STORE_MS),
    rejectedMs: number("rejectedCacheSeconds", DEFAULTS.rejectedCacheSeconds) * 1000,
    misconfiguredMs: number("misconfiguredCacheSeconds", DEFAULTS.misconfiguredCacheSeconds) * 1000,
    transientMs: number("transientFailureSeconds", DEFAULTS.transientFailureSeconds) * 1000,
    evictionWindowMs: number("evictionWindowSeconds", DEFAULTS.evictionWindowSeconds) * 1000,
    maxOffices: Math.floor(number("maxOffices", DEFAULTS.maxOffices, 1)),
    newOfficeBurst: number("newOfficeBurst", DEFAULTS.newOfficeBurst, 1),
    newOfficesPerSecond: number("newOfficesPerSecond", DEFAULTS.newOfficesPerSecond),
    breakerThreshold: Math.floor(number("breakerThreshold", DEFAULTS.breakerThreshold, 1)),
  };
}
