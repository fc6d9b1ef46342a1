/**
 * What callers receive: token answer objects and the errors of standing failures.
 *
 * @module
 */
import { AqcError, type AqcErrorCode } from "../errors.ts";
import type { StoredFailure, StoredToken } from "../store/store.ts";
import type { Entry } from "./offices.ts";
import { type ScheduleOptions, scheduleToken } from "./schedule.ts";
import type { AccessToken, TokenSource } from "./types.ts";

/**
 * A frozen answer object whose `accessToken` is not enumerable, so `console.log(token)`
 * or `JSON.stringify(token)` does not print it.
 *
 * @param officeId The canonical office id.
 * @param token The token.
 * @param source Where it came from.
 * @returns The answer.
 */
export function makeView(officeId: string, token: StoredToken, source: TokenSource): AccessToken {
  const view = {
    tokenType: "Bearer" as const,
    officeId,
    issuedAt: token.issuedAt,
    expiresAt: token.expiresAt,
    usableUntil: token.usableUntil,
    source,
  };
  Object.defineProperty(view, "accessToken", { value: token.accessToken, enumerable: false });
  return Object.freeze(view) as AccessToken;
}

/**
 * Installs a token in an office's L1 entry with its schedule and answer objects, and
 * clears the office's standing failure and background backoff.
 *
 * @param entry The office's entry.
 * @param token The token (from L2 or the endpoint).
 * @param source Where it came from.
 * @param options The schedule policy.
 * @returns The answer for `source`.
 */
export function installToken(
  entry: Entry,
  token: StoredToken,
  source: TokenSource,
  options: ScheduleOptions,
): AccessToken {
  const schedule = scheduleToken(token, options);
  const stored = { ...token, usableUntil: schedule.usableUntil };
  const views = {
    l1: makeView(entry.officeId, stored, "l1"),
    l2: makeView(entry.officeId, stored, "l2"),
    endpoint: makeView(entry.officeId, stored, "endpoint"),
  };
  entry.token = { stored, refreshAt: schedule.refreshAt, views, source };
  entry.failure = undefined;
  entry.nextBackgroundAt = 0;
  entry.known = true;
  return views[source];
}

const FAILURE_MESSAGES: Partial<Record<AqcErrorCode, string>> = {
  credentials_rejected: "Token endpoint rejected the client credentials",
  token_request_rejected: "Token endpoint rejected the token request",
  token_endpoint_misconfigured: "Token URL does not answer as an OAuth token endpoint",
  rate_limited: "Token endpoint is rate limiting token requests",
  token_endpoint_unavailable: "Token endpoint is unavailable",
  token_response_invalid: "Token endpoint answered an invalid token response",
};

/**
 * The error every caller gets while a failure stands.
 *
 * @param failure The standing failure.
 * @param now Epoch ms on the failure's clock.
 * @returns An error with `retryAfterSeconds` until it ends (at least 1).
 */
export function failureError(failure: StoredFailure, now: number): AqcError {
  const retryAfterSeconds = Math.max(1, Math.ceil((failure.until - now) / 1000));
  return new AqcError(
    failure.code,
    `${FAILURE_MESSAGES[failure.code] ?? "Token request failed"} (retry in ${retryAfterSeconds} s)`,
    { ...(failure.status === undefined ? {} : { status: failure.status }), retryAfterSeconds },
  );
}

/** Longest negative cache a `Retry-After` may cause, in ms (the breaker's cap too). */
export const MAX_RETRY_AFTER_HOLD_MS = 300_000;

/** How long each kind of failure is negative-cached, in ms. */
export interface FailureHolds {
  /** `credentials_rejected`. */
  rejectedMs: number;
  /** `token_endpoint_misconfigured` and `token_request_rejected`. */
  misconfiguredMs: number;
  /** Everything else (at least; a `Retry-After` may make it longer). */
  transientMs: number;
}

/**
 * The failure record of a failed refresh: how long it stands depends on its code, and
 * on `retryAfterSeconds` when the endpoint asked for more.
 *
 * @param error The classified error.
 * @param now Epoch ms.
 * @param holds The negative-cache periods.
 * @returns The record to keep and share.
 */
export function failureRecord(error: AqcError, now: number, holds: FailureHolds): StoredFailure {
  const hold = error.code === "credentials_rejected"
    ? holds.rejectedMs
    : error.code === "token_endpoint_misconfigured" || error.code === "token_request_rejected"
    ? holds.misconfiguredMs
    // A Retry-After counts up to MAX_RETRY_AFTER_HOLD_MS only, as for the breaker and the
    // shared record: a broken header (up to an hour) must not stop an office for longer.
    : Math.max(
      holds.transientMs,
      Math.min((error.retryAfterSeconds ?? 0) * 1000, MAX_RETRY_AFTER_HOLD_MS),
    );
  return {
    code: error.code,
    at: now,
    until: now + hold,
    ...(error.status === undefined ? {} : { status: error.status }),
  };
}
