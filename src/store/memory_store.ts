/**
 * An in-memory {@linkcode TokenStore}.
 *
 * @module
 */
import type { ReadOptions, StoredEntry, StoredFailure, StoredToken, TokenStore } from "./store.ts";

/** Options of {@linkcode MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Epoch ms clock used for expiry; defaults to `Date.now`. */
  now?: () => number;
}

interface Expiring<T> {
  value: T;
  until: number;
}

/**
 * A {@linkcode TokenStore} held in this isolate's memory: the default store, for a single
 * process, for tests, and for sharing one cache between several `TokenManager`s.
 *
 * @example
 * ```ts
 * import { MemoryTokenStore, TokenManager } from "@aqc-edge/aqc-edge";
 *
 * const store = new MemoryTokenStore();
 * const tokens = new TokenManager({
 *   credentials: { apiUrl: "https://test.travel.api.amadeus.com", clientId: "id", clientSecret: "secret" },
 *   store,
 * });
 * ```
 */
export class MemoryTokenStore implements TokenStore {
  #now: () => number;
  #tokens = new Map<string, Expiring<StoredToken>>();
  #failures = new Map<string, Expiring<StoredFailure>>();
  #leases = new Map<string, Expiring<string>>();
  /** Writes since the last sweep of expired records. */
  #writes = 0;

  /**
   * Creates an empty store.
   *
   * @param options Clock override.
   */
  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  #live<T>(map: Map<string, Expiring<T>>, id: string): T | undefined {
    const entry = map.get(id);
    if (entry === undefined) return undefined;
    if (entry.until <= this.#now()) {
      map.delete(id);
      return undefined;
    }
    return entry.value;
  }

  /** Reads the token and failure of an entry (always fresh: there is one copy). */
  /**
   * Drops expired records once the writes since the last sweep reach the number of records
   * held (at least 256): amortised O(1) per write, and a record of an office nobody asks
   * for again no longer stays forever (a flood of distinct office ids would grow memory
   * without bound otherwise).
   */
  #sweep(): void {
    if (++this.#writes < Math.max(256, this.size)) return;
    this.#writes = 0;
    const now = this.#now();
    for (
      const map of [this.#tokens, this.#failures, this.#leases] as Map<string, Expiring<unknown>>[]
    ) {
      for (const [id, entry] of map) if (entry.until <= now) map.delete(id);
    }
  }

  /** Records held (tokens, failures and leases), expired ones included until swept. */
  get size(): number {
    return this.#tokens.size + this.#failures.size + this.#leases.size;
  }

  read(id: string, _options?: ReadOptions): Promise<StoredEntry> {
    const entry: StoredEntry = {};
    const token = this.#live(this.#tokens, id);
    if (token !== undefined) entry.token = { ...token };
    const failure = this.#live(this.#failures, id);
    if (failure !== undefined) entry.failure = { ...failure };
    return Promise.resolve(entry);
  }

  /** Stores a token until its `usableUntil`. */
  writeToken(id: string, token: StoredToken): Promise<void> {
    this.#sweep();
    this.#tokens.set(id, { value: { ...token }, until: token.usableUntil });
    // A fresh token supersedes any failure recorded before it.
    this.#failures.delete(id);
    return Promise.resolve();
  }

  /** Deletes the token if it is still `accessToken`. */
  deleteToken(id: string, accessToken: string): Promise<boolean> {
    const token = this.#live(this.#tokens, id);
    if (token === undefined || token.accessToken !== accessToken) return Promise.resolve(false);
    this.#tokens.delete(id);
    return Promise.resolve(true);
  }

  /** Shares a failure until `failure.until`. */
  writeFailure(id: string, failure: StoredFailure): Promise<void> {
    this.#sweep();
    this.#failures.set(id, { value: { ...failure }, until: failure.until });
    return Promise.resolve();
  }

  /** Takes the lease if free or already held by `owner` (then extends it). */
  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    this.#sweep();
    const holder = this.#live(this.#leases, id);
    if (holder !== undefined && holder !== owner) return Promise.resolve(false);
    this.#leases.set(id, { value: owner, until: this.#now() + ttlMs });
    return Promise.resolve(true);
  }

  /** Releases the lease if `owner` holds it. */
  releaseLease(id: string, owner: string): Promise<void> {
    if (this.#live(this.#leases, id) === owner) this.#leases.delete(id);
    return Promise.resolve();
  }
}
