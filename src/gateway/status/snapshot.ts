/**
 * The status page's data: per office, the token this isolate holds (source, age, expiry, next
 * refresh), the failure in force, an AQC 429 hold, and requests and errors per minute. Built
 * from state the gateway already has: no I/O, and never a token, secret or key.
 *
 * @module
 */
import type { OfficeTokenState } from "../../token/manager.ts";
import type { TokenSource } from "../../token/types.ts";
import type { OpsGuard } from "../ops_guard.ts";
import { type MinuteStats, type RequestStats, STATS_MINUTES } from "./stats.ts";

/** One office on the status page. */
export interface OfficeStatus {
  /** The canonical office. */
  officeId: string;
  /** The token this isolate holds, or `null`. */
  token: {
    /** Where it came from: `endpoint` (this isolate asked AQC) or `l2` (shared store). */
    source: TokenSource;
    /** Seconds since its token request was sent. */
    ageSeconds: number;
    /** Seconds until it expires. */
    expiresInSeconds: number;
    /** Seconds until it is refreshed (0: due now). */
    nextRefreshInSeconds: number;
  } | null;
  /** Whether a token request is in flight. */
  refreshing: boolean;
  /** The token failure in force (shared through the store), or `null`. */
  failure: { code: string; retryInSeconds: number } | null;
  /** Seconds this office is still held after an AQC 429 (0: not held). */
  upstreamHoldSeconds: number;
  /** The last minutes, oldest first. */
  minutes: MinuteStats[];
  /** Sums over `minutes`. */
  totals: { requests: number; errors: number; limited: number };
}

/** The whole status document (`GET /status` with `Accept: application/json`). */
export interface StatusSnapshot {
  /** Epoch ms it was made. */
  generatedAt: number;
  /** The store kind: `upstash`, `memory` or `custom`. */
  store: string;
  /** Minutes of history per office. */
  minutes: number;
  /** Offices, by id. */
  offices: OfficeStatus[];
  /** Caller rate limits: Redis calls, and decisions taken locally because Redis failed. */
  rateLimit: { sharedCalls: number; fallbacks: number } | null;
  /**
   * The guards' shared Redis: failures so far and whether it is skipped right now; `null`
   * when no guard uses one (no Upstash, or no rate limit and local AQC 429 holds).
   */
  sharedRedis: { failures: number; paused: boolean } | null;
}

/** What the snapshot reads. */
export interface StatusSources {
  /** `tokens.inspect()`. */
  inspect(): OfficeTokenState[];
  /** The guard (holds, limiter, Redis). */
  guard: OpsGuard;
  /** Requests per office and minute. */
  stats: RequestStats;
  /** The store kind. */
  storeKind: string;
}

const seconds = (ms: number): number => Math.max(0, Math.round(ms / 1000));

/**
 * Builds the snapshot.
 *
 * @param sources Token states, guard, stats.
 * @param now Epoch ms.
 * @returns The document.
 */
export function statusSnapshot(sources: StatusSources, now: number): StatusSnapshot {
  const states = new Map(sources.inspect().map((state) => [state.officeId, state]));
  const held = sources.guard.holds?.held() ?? new Map<string, number>();
  const ids = new Set([...states.keys(), ...sources.stats.offices(), ...held.keys()]);
  const offices: OfficeStatus[] = [...ids].sort().slice(0, 256).map((officeId) => {
    const state = states.get(officeId);
    const minutes = sources.stats.minutes(officeId);
    const totals = { requests: 0, errors: 0, limited: 0 };
    for (const minute of minutes) {
      totals.requests += minute.requests;
      totals.errors += minute.errors;
      totals.limited += minute.limited;
    }
    const token = state?.source === undefined || state.expiresAt === undefined ? null : {
      source: state.source,
      ageSeconds: seconds(now - (state.issuedAt ?? now)),
      expiresInSeconds: seconds(state.expiresAt - now),
      nextRefreshInSeconds: seconds((state.refreshAt ?? now) - now),
    };
    const failure = state?.failure !== undefined && state.failure.until > now
      ? { code: state.failure.code, retryInSeconds: Math.ceil((state.failure.until - now) / 1000) }
      : null;
    return {
      officeId,
      token,
      refreshing: state?.refreshing ?? false,
      failure,
      upstreamHoldSeconds: Math.ceil((held.get(officeId) ?? 0) / 1000),
      minutes,
      totals,
    };
  });
  const { limiter, redis } = sources.guard;
  return {
    generatedAt: now,
    store: sources.storeKind,
    minutes: STATS_MINUTES,
    offices,
    rateLimit: limiter === undefined ? null : limiter.counts,
    sharedRedis: redis === undefined ? null : { failures: redis.failures, paused: redis.paused },
  };
}
