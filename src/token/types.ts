/**
 * Public shapes of the token engine: credentials, access tokens and events.
 *
 * @module
 */
import type { AqcErrorCode } from "../errors.ts";

/** The AQC API credentials of one client application. */
export interface Credentials {
  /** API root, e.g. `https://test.travel.api.amadeus.com`; https, or http on loopback. */
  apiUrl: string;
  /** The client id (API key) of the AQC application. */
  clientId: string;
  /** The client secret (API secret); never logged, never stored in plain text. */
  clientSecret: string;
}

/** Where a token came from: this isolate, the shared store, or the token endpoint. */
export type TokenSource = "l1" | "l2" | "endpoint";

/**
 * An AQC access token ready to send. `accessToken` is not enumerable, so logging or
 * serialising the object by accident does not print the token.
 */
export interface AccessToken {
  /** The bearer token to send as `Authorization: Bearer <accessToken>`. */
  readonly accessToken: string;
  /** Always `Bearer`. */
  readonly tokenType: "Bearer";
  /** The office the token was issued for, canonical form. */
  readonly officeId: string;
  /** Epoch ms of the request that obtained the token (expiry is anchored to it). */
  readonly issuedAt: number;
  /** Epoch ms at which the token endpoint says the token expires. */
  readonly expiresAt: number;
  /** Epoch ms after which this layer never sends the token (`expiresAt` − skew). */
  readonly usableUntil: number;
  /** Where this answer came from. */
  readonly source: TokenSource;
}

/** What happened, for metrics and logs. Events never hold a secret or a token. */
export type TokenEvent =
  | { type: "hit"; officeId: string; source: "l1" | "l2" }
  | { type: "stale_served"; officeId: string; usableForMs: number }
  | { type: "refresh_started"; officeId: string; background: boolean }
  | { type: "token_fetched"; officeId: string; durationMs: number; attempts: number }
  | {
    type: "token_fetch_failed";
    officeId: string;
    code: AqcErrorCode;
    status?: number;
    attempt: number;
    willRetry: boolean;
    delayMs?: number;
  }
  | { type: "refresh_failed"; officeId: string; code: AqcErrorCode; background: boolean }
  | { type: "negative_cache_hit"; officeId: string; code: AqcErrorCode; retryAfterMs: number }
  | {
    type: "lease_wait";
    officeId: string;
    waitedMs: number;
    outcome: "token" | "failure" | "acquired" | "timeout";
  }
  | { type: "store_error"; officeId: string; operation: string; message: string }
  | {
    type: "invalidated";
    officeId: string;
    evicted: boolean;
    /** Set when the eviction was refused: one was honoured within the eviction window. */
    refused?: boolean;
  };

/** Options of `TokenManager.getToken`. */
export interface GetTokenOptions {
  /** Aborts the caller's wait (not the shared refresh other callers may await). */
  signal?: AbortSignal;
  /**
   * Keeps the runtime alive for background work after the response is sent, e.g.
   * Workers' `ctx.waitUntil`. Without it the refresh runs as a tracked promise.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** One office's outcome of `TokenManager.prototype.prewarm`. */
export interface PrewarmResult {
  /** The office as canonicalised, or as given when it was invalid. */
  officeId: string;
  /** Whether a usable token is cached now. */
  ok: boolean;
  /** Where the token came from, when `ok`. */
  source?: TokenSource;
  /** Its expiry, when `ok`. */
  expiresAt?: number;
  /** The error code, when not `ok`. */
  code?: AqcErrorCode;
}
