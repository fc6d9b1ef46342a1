/**
 * `judgeShared`: what an office's L2 entry means for this isolate — a token to adopt, a
 * failure to share, or nothing. Kept apart from the manager because every read of L2 (the
 * first read, the double-check under the lease, each peer poll) judges the same way.
 *
 * @module
 */
import type { AqcError } from "../errors.ts";
import type { StoredEntry } from "../store/store.ts";
import type { Entry } from "./offices.ts";
import { type ScheduleOptions, usableUntilOf } from "./schedule.ts";
import type { AccessToken, TokenEvent } from "./types.ts";
import { failureError, installToken } from "./views.ts";

/** What {@linkcode judgeShared} needs of the manager. */
export interface JudgeContext {
  /** The manager's clock, epoch ms. */
  now: number;
  /** The schedule policy (its `skewMs` decides whether a shared token may still be sent). */
  options: ScheduleOptions & { skewMs: number };
  /** The manager's event sink. */
  emit: (event: TokenEvent) => void;
}

/**
 * Judges what L2 holds: a shared token worth adopting (usable by our skew, not refused,
 * newer than ours) is installed; a standing failure (recorded since `since`, when given)
 * becomes the error to throw; anything else is `undefined`.
 *
 * @param entry The office's L1 entry; updated when a token or failure is adopted.
 * @param read What the store answered.
 * @param context Clock, policy and events.
 * @param since Only failures recorded at or after this epoch ms count (peer waits).
 * @returns The adopted token's answer, the failure as an error, or `undefined`.
 */
export function judgeShared(
  entry: Entry,
  read: StoredEntry,
  context: JudgeContext,
  since?: number,
): AccessToken | AqcError | undefined {
  const { now, options, emit } = context;
  const { token, failure } = read;
  const current = entry.token?.stored;
  if (
    token !== undefined && !entry.rejected.includes(token.accessToken) &&
    // Our skew, not the writer's: a peer configured with a smaller one shares tokens we
    // may no longer send.
    now < usableUntilOf(token, options.skewMs) &&
    (current === undefined || now >= current.usableUntil || token.expiresAt > current.expiresAt)
  ) {
    emit({ type: "hit", officeId: entry.officeId, source: "l2" });
    return installToken(entry, token, "l2", options);
  }
  if (
    failure !== undefined && now < failure.until && (since === undefined || failure.at >= since)
  ) {
    entry.failure = failure;
    emit({
      type: "negative_cache_hit",
      officeId: entry.officeId,
      code: failure.code,
      retryAfterMs: failure.until - now,
    });
    return failureError(failure, now);
  }
  return undefined;
}
