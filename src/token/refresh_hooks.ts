/**
 * `refreshHooks`: how one office's refresh flight meets the shared cache's lease protocol —
 * what to adopt, whether a new office may spend a token request, when to keep serving ours
 * instead of waiting for a peer, and how a token or failure lands in L1. Kept out of the
 * manager, which owns L1, single flight and the public API.
 *
 * @module
 */
import { judgeShared } from "./adopt.ts";
import type { TokenIssuer } from "./issuer.ts";
import type { Entry } from "./offices.ts";
import type { ResolvedOptions } from "./options.ts";
import { peerDeferMs } from "./schedule.ts";
import type { RefreshHooks } from "./shared_cache.ts";
import type { TokenEvent } from "./types.ts";
import { failureRecord, installToken } from "./views.ts";

/**
 * The hooks of one flight for `entry`.
 *
 * @param entry The office's L1 entry.
 * @param background Whether the flight is a background refresh (callers are served ours).
 * @param options The manager's resolved options.
 * @param issuer The token request side (budget, breaker, retries).
 * @param emit The manager's event sink.
 * @returns The hooks for `SharedCache.refresh`.
 */
export function refreshHooks(
  entry: Entry,
  background: boolean,
  options: ResolvedOptions,
  issuer: TokenIssuer,
  emit: (event: TokenEvent) => void,
): RefreshHooks {
  const { officeId } = entry;
  const { now } = options;
  return {
    leaseTtlMs: options.deadlineMs + options.requestTimeoutMs,
    now,
    consider: (read, since) => judgeShared(entry, read, { now: now(), options, emit }, since),
    admit: () => {
      const refused = entry.known ? undefined : issuer.admitNewOffice();
      if (refused) emit({ type: "refresh_failed", officeId, code: refused.code, background });
      return refused;
    },
    defer: () => {
      if (!background || entry.token === undefined) return undefined;
      // Another isolate is refreshing: keep serving ours and look at L2 again soon, and in
      // any case before ours runs out.
      const at = now();
      const runway = entry.token.stored.usableUntil - at;
      entry.nextBackgroundAt = at + peerDeferMs(runway, options.random);
      emit({ type: "hit", officeId, source: "l1" });
      return entry.token.views.l1;
    },
    prepare: () => issuer.prepare(officeId),
    issue: async () => {
      const issued = await issuer.request(officeId);
      const view = installToken(
        entry,
        { ...issued, usableUntil: issued.expiresAt },
        "endpoint",
        options,
      );
      return { view, stored: entry.token!.stored };
    },
    failed: (error) => {
      emit({ type: "refresh_failed", officeId, code: error.code, background });
      return entry.failure = failureRecord(error, now(), options);
    },
  };
}
