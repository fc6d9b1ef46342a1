/**
 * `inspectOffices`: what an isolate holds per office, for status pages and telemetry. Kept
 * out of the manager so the snapshot shape lives in one place; it never copies the token.
 *
 * @module
 */
import type { AqcErrorCode } from "../errors.ts";
import type { Entry } from "./offices.ts";
import type { TokenSource } from "./types.ts";

/** One office as this isolate holds it (status pages); never the token itself. */
export interface OfficeTokenState {
  /** The canonical office. */
  officeId: string;
  /** Where the cached token came from, when one is cached. */
  source?: TokenSource;
  /** Epoch ms of the token request behind the cached token. */
  issuedAt?: number;
  /** Epoch ms the cached token expires. */
  expiresAt?: number;
  /** Epoch ms after which it is never sent. */
  usableUntil?: number;
  /** Epoch ms from which it is refreshed (in the background). */
  refreshAt?: number;
  /** Whether a token request for the office is in flight. */
  refreshing: boolean;
  /** The failure in force (this isolate's, or shared through the store), if any. */
  failure?: { code: AqcErrorCode; until: number; status?: number };
}

/**
 * Snapshots at most `limit` entries.
 *
 * @param entries The manager's office entries.
 * @param limit Most offices returned.
 * @returns One state per office, in table order.
 */
export function inspectOffices(entries: Iterable<Entry>, limit: number): OfficeTokenState[] {
  const out: OfficeTokenState[] = [];
  for (const entry of entries) {
    if (out.length >= limit) break;
    const token = entry.token;
    const failure = entry.failure;
    out.push({
      officeId: entry.officeId,
      refreshing: entry.flight !== undefined,
      ...(token === undefined ? {} : {
        source: token.source,
        issuedAt: token.stored.issuedAt,
        expiresAt: token.stored.expiresAt,
        usableUntil: token.stored.usableUntil,
        refreshAt: token.refreshAt,
      }),
      ...(failure === undefined ? {} : {
        failure: {
          code: failure.code,
          until: failure.until,
          ...(failure.status === undefined ? {} : { status: failure.status }),
        },
      }),
    });
  }
  return out;
}
