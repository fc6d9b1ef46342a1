/**
 * When a token is refreshed and until when it is sent: pure arithmetic with an injected
 * `random`, so the policy can be tested without a clock, a network or a manager.
 *
 * @module
 */

/** The timing policy of one manager, in ms. */
export interface ScheduleOptions {
  /** Refresh this long before expiry (plus jitter). */
  refreshAheadMs: number;
  /** Never send a token closer than this to its expiry. */
  skewMs: number;
  /** Upper bound of the random refresh jitter. */
  jitterMs: number;
  /** Uniform in [0, 1); `Math.random` in production. */
  random: () => number;
}

/** The two instants that govern a cached token, epoch ms. */
export interface Schedule {
  /** From here on, callers still get the token but one background refresh starts. */
  refreshAt: number;
  /** From here on, the token is never sent. */
  usableUntil: number;
}

/** The times of a token, epoch ms. */
export interface TokenTimes {
  /** When the request that obtained it was sent. */
  issuedAt: number;
  /** When the token endpoint says it expires. */
  expiresAt: number;
  /** The latest instant a producer allows it to be sent (at most `expiresAt`). */
  usableUntil: number;
}

/**
 * Computes `refreshAt` and `usableUntil` for a token. Short-lived tokens (simulators,
 * tests) would otherwise be due before they arrive: the skew is capped at a quarter of the
 * lifetime, and refresh-ahead plus jitter are scaled down together to half of it.
 *
 * @example
 * ```ts
 * import { scheduleToken } from "./schedule.ts";
 *
 * const t0 = 0;
 * const s = scheduleToken(
 *   { issuedAt: t0, expiresAt: t0 + 1_800_000, usableUntil: t0 + 1_800_000 },
 *   { refreshAheadMs: 300_000, skewMs: 30_000, jitterMs: 60_000, random: () => 0 },
 * );
 * if (s.refreshAt !== 1_500_000 || s.usableUntil !== 1_770_000) throw new Error("schedule");
 * ```
 *
 * @param token The token's times.
 * @param options The policy.
 * @returns When to refresh it and until when to send it.
 */
export function scheduleToken(token: TokenTimes, options: ScheduleOptions): Schedule {
  const lifetime = Math.max(0, token.expiresAt - token.issuedAt);
  const skew = Math.min(options.skewMs, lifetime / 4);
  const usableUntil = usableUntilOf(token, options.skewMs);
  const window = options.refreshAheadMs + options.jitterMs;
  const scale = window > lifetime / 2 ? lifetime / 2 / window : 1;
  const lead = (options.refreshAheadMs + options.random() * options.jitterMs) * scale;
  return {
    refreshAt: Math.min(token.expiresAt - Math.max(lead, skew), usableUntil),
    usableUntil,
  };
}

/**
 * The latest instant a token may be sent under this manager's skew, whatever its producer
 * allowed: an L2 record written by a peer with a smaller skew (or by another `TokenStore`
 * implementation) must be judged by this, not by its own `usableUntil`.
 *
 * @example
 * ```ts
 * import { usableUntilOf } from "./schedule.ts";
 *
 * const token = { issuedAt: 0, expiresAt: 1_800_000, usableUntil: 1_800_000 };
 * if (usableUntilOf(token, 30_000) !== 1_770_000) throw new Error("usableUntil");
 * ```
 *
 * @param token The token's times.
 * @param skewMs The manager's skew (capped at a quarter of the lifetime).
 * @returns Epoch ms.
 */
export function usableUntilOf(token: TokenTimes, skewMs: number): number {
  const lifetime = Math.max(0, token.expiresAt - token.issuedAt);
  return Math.min(token.usableUntil, token.expiresAt - Math.min(skewMs, lifetime / 4));
}

/**
 * How long to wait before the next background refresh after `failures` failed ones in a
 * row: capped exponential (1 s doubling to 30 s) with equal jitter, so a long outage
 * costs at most one attempt per office every 15–30 s while the cached token is served.
 *
 * @param failures Failed background refreshes in a row, 1 or more.
 * @param random Uniform in [0, 1).
 * @returns Milliseconds.
 */
export function backgroundBackoffMs(failures: number, random: () => number): number {
  const cap = Math.min(30_000, 1_000 * 2 ** Math.min(Math.max(failures, 0), 5));
  return cap / 2 + random() * (cap / 2);
}

/** Shortest pause between background refreshes of one office, in ms. */
export const MIN_BACKGROUND_RETRY_MS = 250;

/**
 * When to try a failed background refresh again: {@linkcode backgroundBackoffMs}, but at
 * most half of what is left of the cached token (at least
 * {@linkcode MIN_BACKGROUND_RETRY_MS}). Without that cap a few failures in a row — some of
 * them without a request at all (the breaker open, a peer's failure standing in L2) —
 * pushed the next attempt past `usableUntil`, so a fault that had ended left callers to
 * block, or to meet the standing failure, when the cached token ran out. With it, the
 * attempts close in on the token's end: about log2(runway / 250 ms) more at most.
 *
 * @example
 * ```ts
 * import { backgroundRetryMs } from "./schedule.ts";
 *
 * // Fourth failure in a row (8–16 s), 6 s left: try again within 3 s.
 * if (backgroundRetryMs(4, 6_000, () => 0.5) !== 3_000) throw new Error("capped");
 * ```
 *
 * @param failures Failed background refreshes in a row, 1 or more.
 * @param runwayMs Time left until the cached token's `usableUntil` (`Infinity` if none).
 * @param random Uniform in [0, 1).
 * @returns Milliseconds.
 */
export function backgroundRetryMs(
  failures: number,
  runwayMs: number,
  random: () => number,
): number {
  return Math.min(
    backgroundBackoffMs(failures, random),
    Math.max(MIN_BACKGROUND_RETRY_MS, runwayMs / 2),
  );
}

/**
 * How long a background refresh that found a peer holding the lease waits before looking
 * at L2 again: 0.5–1.5 s, but at most half of what is left of the cached token (at least
 * 50 ms), so that with short lifetimes callers never block for the peer's token.
 *
 * @param runwayMs Time left until the cached token's `usableUntil` (`Infinity` if none).
 * @param random Uniform in [0, 1).
 * @returns Milliseconds.
 */
export function peerDeferMs(runwayMs: number, random: () => number): number {
  return Math.min(500 + random() * 1_000, Math.max(50, runwayMs / 2));
}

/**
 * The pauses between polls of L2 while a peer holds the lease: 25 ms doubling to 400 ms,
 * each drawn from the upper half (so peers do not poll in lockstep).
 *
 * @param poll The 0-based poll number.
 * @param random Uniform in [0, 1).
 * @returns Milliseconds.
 */
export function peerPollPauseMs(poll: number, random: () => number): number {
  const pause = Math.min(25 * 2 ** Math.min(poll, 4), 400);
  return pause * (0.5 + random() / 2);
}
