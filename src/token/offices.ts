/**
 * The manager's per-office entries, bounded: least recently used entries (and the office
 * ids as callers wrote them) are dropped beyond `maxOffices`, so a flood of distinct
 * office ids cannot grow memory without bound.
 *
 * @module
 */
import { normalizeOfficeId } from "../office.ts";
import type { StoredFailure, StoredToken } from "../store/store.ts";
import type { AccessToken, TokenSource } from "./types.ts";

/** A token installed in L1 with its schedule and its answer objects. */
export interface CachedToken {
  /** The token, `usableUntil` already reduced by the skew. */
  stored: StoredToken;
  /** From here on, one background refresh starts. */
  refreshAt: number;
  /** Answer objects made once, so a warm hit allocates nothing. */
  views: Record<TokenSource, AccessToken>;
  /** Where the token came from when it was installed (for `inspect`). */
  source: TokenSource;
}

/** A refresh in progress. */
export interface Flight {
  /** Settles with the token (or the failure). */
  promise: Promise<AccessToken>;
  /** Whether it was started in the background (callers keep the cached token meanwhile). */
  background: boolean;
}

/** Everything the manager knows about one office. */
export interface Entry {
  /** The canonical office id. */
  officeId: string;
  /** The L2 entry id, computed once. */
  id?: Promise<string>;
  /** The L1 token. */
  token?: CachedToken | undefined;
  /** The standing failure, negative-cached. */
  failure?: StoredFailure | undefined;
  /** The refresh in progress. */
  flight?: Flight | undefined;
  /** No background refresh before this (set after a failed or deferred one). */
  nextBackgroundAt: number;
  /** Failed background refreshes in a row. */
  backgroundFailures: number;
  /** The last tokens invalidated (at most {@linkcode REJECTED_PER_OFFICE}): never adopted again. */
  rejected: string[];
  /** When an eviction was last honoured (manager clock); bounds evictions per office. */
  evictedAt?: number;
  /** Whether this manager ever held a token for it (new offices spend the cold budget). */
  known: boolean;
  /** The spellings of the office id that map here, dropped with the entry. */
  aliases: string[];
}

/** Invalidated tokens remembered per office, so none comes back from a stale L2 copy. */
export const REJECTED_PER_OFFICE = 4;

/**
 * Remembers a token AQC refused, so no L2 read of this isolate adopts it again; the oldest
 * of more than {@linkcode REJECTED_PER_OFFICE} is forgotten.
 *
 * @param entry The office's entry.
 * @param accessToken The refused token.
 */
export function reject(entry: Entry, accessToken: string): void {
  if (entry.rejected.includes(accessToken)) return;
  if (entry.rejected.push(accessToken) > REJECTED_PER_OFFICE) entry.rejected.shift();
}

/** Spellings remembered per office (e.g. `nce1a0955` and ` NCE1A0955 `). */
const ALIASES_PER_OFFICE = 4;

/** A bounded, least-recently-used table of {@linkcode Entry}. */
export class OfficeTable {
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  /** Office ids as callers wrote them, so a warm call skips normalisation. */
  readonly #aliases = new Map<string, Entry>();
  /** The most recently touched entry: touching it again costs nothing. */
  #last: Entry | undefined;
  /**
   * Entries created for offices that never held a token here, oldest first: dropped before
   * any office that did, so a flood of ids the new-office budget refuses (they cost no
   * token request) cannot push a served office out and reset its eviction window, its
   * refused tokens and its exemption from that budget. Least recently used first, like the
   * table; entries that became `known` are removed lazily.
   */
  readonly #probation = new Map<string, Entry>();

  /**
   * Creates an empty table.
   *
   * @param maxOffices Entries kept at most, 1 or more.
   */
  constructor(maxOffices: number) {
    this.#max = Math.max(1, maxOffices);
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Spellings held. */
  get aliasCount(): number {
    return this.#aliases.size;
  }

  /** The entries, least recently used first; reading them does not touch them. */
  values(): IterableIterator<Entry> {
    return this.#entries.values();
  }

  /**
   * The entry for an office id as a caller wrote it, created if needed, and marked as
   * most recently used.
   *
   * @param raw The office id as given.
   * @returns Its entry.
   * @throws {AqcError} `office_invalid` when it is not an office id.
   */
  get(raw: string): Entry {
    const alias = this.#aliases.get(raw);
    if (alias !== undefined) {
      this.#touch(alias);
      return alias;
    }
    const officeId = normalizeOfficeId(raw);
    let entry = this.#entries.get(officeId);
    if (entry === undefined) {
      entry = {
        officeId,
        nextBackgroundAt: 0,
        backgroundFailures: 0,
        known: false,
        aliases: [],
        rejected: [],
      };
      this.#entries.set(officeId, entry);
      this.#probation.set(officeId, entry);
      this.#last = entry;
      this.#evict();
    } else {
      this.#touch(entry);
    }
    if (entry.aliases.length < ALIASES_PER_OFFICE) {
      entry.aliases.push(raw);
      this.#aliases.set(raw, entry);
    }
    return entry;
  }

  #touch(entry: Entry): void {
    if (entry === this.#last) return;
    // Map order is insertion order: re-inserting moves the entry to the young end.
    this.#entries.delete(entry.officeId);
    this.#entries.set(entry.officeId, entry);
    if (this.#probation.delete(entry.officeId) && !entry.known) {
      this.#probation.set(entry.officeId, entry);
    }
    this.#last = entry;
  }

  /** The oldest entry that never held a token, other than the one just touched. */
  #probationVictim(): Entry | undefined {
    let looked = 0;
    let victim: Entry | undefined;
    for (const entry of this.#probation.values()) {
      if (entry.known || this.#entries.get(entry.officeId) !== entry) {
        this.#probation.delete(entry.officeId);
        continue;
      }
      if (entry === this.#last) continue;
      victim ??= entry;
      if (entry.flight === undefined) return entry;
      if (++looked >= 8) break;
    }
    return victim;
  }

  /**
   * Drops entries beyond the bound: first those that never held a token, then the least
   * recently used, preferring ones without a refresh in flight.
   */
  #evict(): void {
    while (this.#entries.size > this.#max) {
      let victim = this.#probationVictim();
      let looked = 0;
      if (victim === undefined) {
        for (const entry of this.#entries.values()) {
          if (entry === this.#last) break;
          victim ??= entry;
          if (entry.flight === undefined) {
            victim = entry;
            break;
          }
          // A dropped entry with a flight only costs a duplicate request if it is asked for
          // again while in flight; do not scan the whole table to avoid that.
          if (++looked >= 8) break;
        }
      }
      if (victim === undefined) return;
      this.#entries.delete(victim.officeId);
      this.#probation.delete(victim.officeId);
      for (const alias of victim.aliases) {
        if (this.#aliases.get(alias) === victim) this.#aliases.delete(alias);
      }
      if (this.#last === victim) this.#last = undefined;
    }
  }
}
