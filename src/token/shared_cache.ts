/**
 * The manager's side of the shared cache (L2): every store call bounded by a timeout and
 * turned into a miss on failure, the refresh lease, and waiting on a peer that holds it.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import type { StoredEntry, StoredFailure, StoredToken, TokenStore } from "../store/store.ts";
import { delay } from "./delay.ts";
import { peerPollPauseMs } from "./schedule.ts";
import type { AccessToken, TokenEvent } from "./types.ts";

/** A store call's outcome: its value, or a miss (it failed or timed out; reported). */
export type StoreResult<T> = { ok: true; value: T } | { ok: false };

/** What the manager decides about one L2 read while waiting on a peer. */
export type PeerVerdict = AccessToken | AqcError | undefined;

/** What {@linkcode SharedCache.prototype.refresh} asks of the manager. */
export interface RefreshHooks {
  /** TTL of the refresh lease in ms. */
  leaseTtlMs: number;
  /** The manager's clock. */
  now: () => number;
  /** Judges an L2 read; with `since`, only failures recorded from then on count. */
  consider: (entry: StoredEntry, since?: number) => PeerVerdict;
  /** After an L2 miss, before the lease: an error to throw instead of going on, if any. */
  admit: () => AqcError | undefined;
  /** A peer holds the lease: a token to keep serving instead of waiting, or `undefined`. */
  defer: () => AccessToken | undefined;
  /**
   * Started once the lease is ours, alongside the double-check read (so a store round trip
   * it needs adds no latency); awaited before `issue`. Must not reject.
   */
  prepare: () => Promise<void>;
  /** Obtains a token from the endpoint and installs it in L1. */
  issue: () => Promise<{ view: AccessToken; stored: StoredToken }>;
  /** The record to share for a failure of `issue`, or `undefined` to share none. */
  failed: (error: AqcError) => StoredFailure | undefined;
}

/** Options of {@linkcode SharedCache}. */
export interface SharedCacheOptions {
  /** The store. */
  store: TokenStore;
  /** Timeout of one store call in ms. */
  timeoutMs: number;
  /** Reports store errors and lease waits. */
  emit: (event: TokenEvent) => void;
  /** This manager's lease owner id; called lazily (no random values at construction). */
  owner: () => string;
  /** Uniform in [0, 1). */
  random: () => number;
}

/**
 * A store error's message without what some clients append to it: @upstash/redis
 * quotes the whole command (sealed records, lease owners) after "command was:".
 */
function storeErrorMessage(error: unknown): string {
  if (!(error instanceof Error)) return "Store call failed";
  const cut = error.message.indexOf(", command was:");
  const message = cut === -1 ? error.message : error.message.slice(0, cut);
  return `${error.name}: ${message.slice(0, 200)}`;
}

/** Bounded, failure-tolerant calls to a {@linkcode TokenStore}. */
export class SharedCache {
  readonly #store: TokenStore;
  readonly #timeoutMs: number;
  readonly #emit: (event: TokenEvent) => void;
  readonly #owner: () => string;
  readonly #random: () => number;
  /** Store calls that timed out so far (see `refresh`: a timeout makes the tail background). */
  #timeouts = 0;

  /**
   * Wraps a store.
   *
   * @param options Store, timeout, reporting, owner id and randomness.
   */
  constructor(options: SharedCacheOptions) {
    this.#store = options.store;
    this.#timeoutMs = options.timeoutMs;
    this.#emit = options.emit;
    this.#owner = options.owner;
    this.#random = options.random;
  }

  /** Timeout of one store call in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Runs one store call within the store timeout; any failure is reported and a miss.
   *
   * @param officeId The office it is for (events only).
   * @param operation Its name (events only).
   * @param call The call.
   * @returns The value, or a miss.
   */
  async call<T>(
    officeId: string,
    operation: string,
    call: (store: TokenStore) => Promise<T>,
  ): Promise<StoreResult<T>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = performance.now();
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Store did not answer within ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
      });
      const value = await Promise.race([call(this.#store), timeout]);
      return { ok: true, value };
    } catch (error) {
      // This timeout, or the store client's own one of about the same length.
      if (performance.now() - started >= this.#timeoutMs * 0.9) this.#timeouts++;
      this.#emit({ type: "store_error", officeId, operation, message: storeErrorMessage(error) });
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads an entry; `fresh` asks the store for the latest write fleet-wide (the primary,
   * not a replica), used wherever a stale answer would cost a second token request.
   */
  read(officeId: string, id: string, fresh: boolean): Promise<StoreResult<StoredEntry>> {
    return this.call(officeId, "read", (store) => store.read(id, fresh ? { fresh } : undefined));
  }

  /** Stores a token (a failure is a reported miss). */
  async writeToken(officeId: string, id: string, token: StoredToken): Promise<void> {
    await this.call(officeId, "writeToken", (store) => store.writeToken(id, token));
  }

  /** Shares a failure (a failure is a reported miss). */
  async writeFailure(officeId: string, id: string, failure: StoredFailure): Promise<void> {
    await this.call(officeId, "writeFailure", (store) => store.writeFailure(id, failure));
  }

  /** Compare-and-delete of a token; `false` when the store did not answer. */
  async deleteToken(officeId: string, id: string, accessToken: string): Promise<boolean> {
    const deleted = await this.call(
      officeId,
      "deleteToken",
      (store) => store.deleteToken(id, accessToken),
    );
    return deleted.ok && deleted.value;
  }

  /** Takes (or extends) the refresh lease for this manager. */
  acquireLease(officeId: string, id: string, ttlMs: number): Promise<StoreResult<boolean>> {
    return this.call(
      officeId,
      "acquireLease",
      (store) => store.acquireLease(id, this.#owner(), ttlMs),
    );
  }

  /** Releases the lease if this manager still holds it. */
  async releaseLease(officeId: string, id: string): Promise<void> {
    await this.call(officeId, "releaseLease", (store) => store.releaseLease(id, this.#owner()));
  }

  /**
   * Another isolate holds the lease: poll L2 (fresh reads) with backoff until `consider`
   * accepts what it finds (a token to return, a failure to throw), or take the lease over
   * once it is released or has expired (a dead holder).
   *
   * @param officeId The office.
   * @param id Its entry id.
   * @param leaseTtlMs The lease TTL (bounds the wait, with one store timeout).
   * @param consider Judges one read: a token, an error to throw, or keep waiting.
   * @returns The token, or `undefined` when this manager now holds the lease.
   * @throws {AqcError} What `consider` returned, or `token_endpoint_unavailable` on timeout.
   */
  async waitForPeer(
    officeId: string,
    id: string,
    leaseTtlMs: number,
    consider: (entry: StoredEntry) => PeerVerdict,
  ): Promise<AccessToken | undefined> {
    // Wall-clock: the wait is real time whatever clock the manager was given.
    const startedWall = Date.now();
    const deadline = startedWall + leaseTtlMs + this.#timeoutMs;
    const report = (outcome: "token" | "failure" | "acquired" | "timeout"): void =>
      this.#emit({ type: "lease_wait", officeId, waitedMs: Date.now() - startedWall, outcome });
    for (let poll = 0; Date.now() < deadline; poll++) {
      await delay(peerPollPauseMs(poll, this.#random));
      const read = await this.read(officeId, id, true);
      if (read.ok) {
        const verdict = consider(read.value);
        if (verdict instanceof AqcError) {
          report("failure");
          throw verdict;
        }
        if (verdict !== undefined) {
          report("token");
          return verdict;
        }
      }
      const leased = await this.acquireLease(officeId, id, leaseTtlMs);
      if (!leased.ok || leased.value) {
        report("acquired");
        return undefined;
      }
    }
    report("timeout");
    throw new AqcError(
      "token_endpoint_unavailable",
      "Timed out waiting for another isolate to obtain a token",
      { retryAfterSeconds: 1 },
    );
  }

  /**
   * One refresh of an office, across isolates: adopt what L2 holds; else take the lease
   * (or defer to, or wait for, the peer holding it), read L2 again once it is ours, and
   * only then ask the endpoint; share the token or the failure; always release the lease.
   *
   * Once a store call of this refresh (or any other meanwhile) has timed out, the caller
   * does not wait for the rest: the token or failure is written and the lease released in
   * the background, in that order, handed to `tail`. A store that did not answer cost a
   * cold office four timeouts in a row (read, lease, write, release; 2 s with the gateway),
   * now two; every call is still made, so peers see what they saw before (a write before
   * the release, nothing skipped).
   *
   * @param officeId The office.
   * @param id Its entry id.
   * @param hooks The manager's judgement, L1 and token source.
   * @param tail Takes the background write and release (tracked, and kept alive by the
   *   callers' `waitUntil`).
   * @returns The token.
   * @throws {AqcError} The shared or the new failure.
   */
  async refresh(
    officeId: string,
    id: string,
    hooks: RefreshHooks,
    tail: (work: Promise<void>) => void,
  ): Promise<AccessToken> {
    const timeoutsBefore = this.#timeouts;
    const slow = (): boolean => this.#timeouts !== timeoutsBefore;
    /** Set once the write and the release were handed to `tail`. */
    let handedOver = false;
    const later = (write: () => Promise<void>): void => {
      handedOver = true;
      tail(write().then(() => this.releaseLease(officeId, id)));
    };
    const judge = async (fresh: boolean): Promise<PeerVerdict> => {
      const read = await this.read(officeId, id, fresh);
      return read.ok ? hooks.consider(read.value) : undefined;
    };
    const shared = await judge(false);
    if (shared instanceof AqcError) throw shared;
    if (shared !== undefined) return shared;
    // Refused here, not after the lease: a refused caller must cost no further store call.
    const refused = hooks.admit();
    if (refused !== undefined) throw refused;
    let leased = await this.acquireLease(officeId, id, hooks.leaseTtlMs);
    // A store that cannot answer must not stop the refresh: proceed as the holder.
    if (leased.ok && !leased.value) {
      const since = hooks.now();
      const deferred = hooks.defer();
      if (deferred !== undefined) return deferred;
      const waited = await this.waitForPeer(
        officeId,
        id,
        hooks.leaseTtlMs,
        (read) => hooks.consider(read, since),
      );
      if (waited !== undefined) return waited;
      leased = { ok: true, value: true };
    }
    let peerFailure: AqcError | undefined;
    try {
      // With a store that does not answer there is nothing to double-check or prepare.
      if (leased.ok && leased.value) {
        const prepared = hooks.prepare();
        // Double-check once the lease is ours, from the primary: a peer may have fetched,
        // written and released between our read and our lease, and a second token request
        // would be wasted (seen with two `deno serve --parallel` isolates at a cold start).
        const again = await judge(true);
        if (again instanceof AqcError) throw (peerFailure = again);
        if (again !== undefined) return again;
        await prepared;
      }
      const { view, stored } = await hooks.issue();
      if (slow()) later(() => this.writeToken(officeId, id, stored));
      else await this.writeToken(officeId, id, stored);
      return view;
    } catch (error) {
      // A peer's failure is shared as it stands, not recorded again as ours.
      if (!(error instanceof AqcError) || error === peerFailure) throw error;
      const failure = hooks.failed(error);
      if (failure !== undefined) {
        if (slow()) later(() => this.writeFailure(officeId, id, failure));
        else await this.writeFailure(officeId, id, failure);
      }
      throw error;
    } finally {
      // Released even when taking it timed out: a timed-out SET NX may still land, and a
      // lease nobody releases would stall every other isolate until its TTL (seen under
      // load, when Redis answers slower than the store timeout). Compare-and-delete makes
      // this harmless when the lease is not ours.
      if (!handedOver) {
        if (slow()) tail(this.releaseLease(officeId, id));
        else await this.releaseLease(officeId, id);
      }
    }
  }
}
