/**
 * `TokenManager`: AQC tokens per office, cached in-isolate (L1) and in a shared store
 * (L2), refreshed ahead of expiry by exactly one caller, safe under failures and under
 * hostile callers. The policies live beside it: `schedule.ts` (when), `retry.ts` (how
 * often), `breaker.ts` and `budget.ts` (how many), `issuer.ts` (sending token requests),
 * `shared_cache.ts` (L2 and the lease), `offices.ts` (bounded per-office state),
 * `options.ts` and `views.ts`; this file keeps L1, single flight, background work and
 * the public API.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { raceAbort } from "./delay.ts";
import { tokenKeyId } from "./key.ts";
import { type Entry, OfficeTable, reject } from "./offices.ts";
import { type ResolvedOptions, resolveOptions, type TokenManagerOptions } from "./options.ts";
import { inspectOffices, type OfficeTokenState } from "./inspect.ts";
import { TokenIssuer } from "./issuer.ts";
import { backgroundRetryMs } from "./schedule.ts";
import { refreshHooks } from "./refresh_hooks.ts";
import { mapLimited } from "./pool.ts";
import { SharedCache } from "./shared_cache.ts";
import { failureError } from "./views.ts";
import type { AccessToken, GetTokenOptions, PrewarmResult, TokenEvent } from "./types.ts";

export type { TokenManagerOptions } from "./options.ts";

/** Token requests `prewarm` keeps in flight at most. */
const PREWARM_CONCURRENCY = 8;
export type { PrewarmResult } from "./types.ts";
export type { OfficeTokenState } from "./inspect.ts";

/**
 * Obtains, caches and refreshes AQC access tokens per office.
 *
 * - L1: a bounded map in this isolate (`maxOffices`); a warm `getToken` is a map lookup
 *   and a clock read.
 * - L2: a {@linkcode TokenStore} shared by every isolate (`UpstashTokenStore`), read once
 *   when an isolate is cold.
 * - One refresh per office at a time: one promise per office in the isolate, and a lease
 *   in L2 across isolates.
 * - From `refreshAt` on, callers get the cached token at once while one background refresh
 *   runs; past `usableUntil` the token is never handed out.
 * - A failed refresh leaves the cached token in service until `usableUntil`.
 * - Token requests are bounded whatever callers do: evictions per office are rate limited,
 *   new offices draw from a token bucket, and a circuit breaker stops every office of the
 *   client from asking an endpoint that answers 429/5xx.
 * - Construction does no random, timer or I/O work: safe at Worker module scope.
 *
 * @example
 * ```ts ignore
 * import { TokenManager } from "@aqc-edge/aqc-edge";
 *
 * const tokens = new TokenManager({
 *   credentials: {
 *     apiUrl: "https://test.travel.api.amadeus.com",
 *     clientId: Deno.env.get("AQC_CLIENT_ID")!,
 *     clientSecret: Deno.env.get("AQC_CLIENT_SECRET")!,
 *   },
 * });
 * const token = await tokens.getToken("NCE1A0955");
 * const headers = { authorization: `Bearer ${token.accessToken}` };
 * ```
 */
export class TokenManager {
  readonly #o: ResolvedOptions;
  readonly #now: () => number;
  readonly #onEvent: ((event: TokenEvent) => void) | undefined;
  readonly #shared: SharedCache;
  readonly #offices: OfficeTable;
  readonly #issuer: TokenIssuer;
  /** Drawn on first use: `crypto.randomUUID()` at module scope is refused by workerd. */
  #owner: string | undefined;
  /** Every flight and background task not yet settled, for `whenIdle`. */
  readonly #pending = new Set<Promise<unknown>>();
  /**
   * Per office, the background write and release a slow refresh left (see
   * `SharedCache.refresh`), until they settle (two store timeouts at most). Kept here, not
   * in the office's entry: an entry evicted from the table would take its tail with it, and
   * the recreated entry's `invalidate` or refresh would no longer wait for it (red team).
   */
  readonly #tails = new Map<string, Promise<unknown>>();

  /**
   * Creates a manager. Validates the options at once; does no random, timer or I/O work.
   *
   * @param options Credentials, store, timing, limits and hooks.
   * @throws {AqcError} `config_invalid` naming the option that is wrong.
   */
  constructor(options: TokenManagerOptions) {
    this.#o = resolveOptions(options);
    this.#now = this.#o.now;
    this.#onEvent = this.#o.onEvent;
    this.#shared = new SharedCache({
      store: this.#o.store,
      timeoutMs: this.#o.storeTimeoutMs,
      emit: (event) => this.#emit(event),
      owner: () => this.#owner ??= crypto.randomUUID(),
      random: this.#o.random,
    });
    this.#offices = new OfficeTable(this.#o.maxOffices);
    this.#issuer = new TokenIssuer(
      this.#o,
      this.#shared,
      (event) => this.#emit(event),
      (work) => void this.#track(work),
    );
  }

  /** The validated API root every token and request goes to. */
  get apiUrl(): string {
    return this.#o.credentials.apiUrl;
  }

  /** How many offices this manager holds state for (at most `maxOffices`). */
  get officeCount(): number {
    return this.#offices.size;
  }

  /**
   * Returns a usable token for `officeId`: from L1 when warm, else from L2, else from the
   * token endpoint, with one request per office however many callers wait.
   *
   * @example
   * ```ts ignore
   * const token = await tokens.getToken("nce1a0955", { signal: AbortSignal.timeout(5000) });
   * console.log(token.officeId, token.source); // "NCE1A0955" "endpoint"
   * ```
   *
   * @param officeId The office (`guest_office_id`); trimmed and upper-cased.
   * @param options The caller's signal and an optional `waitUntil` for background work.
   * @returns The token; its `accessToken` is never past `usableUntil`.
   * @throws {AqcError} `office_invalid` before any network call; `credentials_rejected`,
   * `token_request_rejected`, `token_endpoint_misconfigured`, `rate_limited`,
   * `token_endpoint_unavailable` or `token_response_invalid` when no usable token can be had.
   */
  async getToken(officeId: string, options?: GetTokenOptions): Promise<AccessToken> {
    const entry = this.#offices.get(officeId);
    const cached = entry.token;
    if (cached !== undefined) {
      const now = this.#now();
      if (now < cached.refreshAt) {
        if (this.#onEvent) this.#emit({ type: "hit", officeId: entry.officeId, source: "l1" });
        return cached.views.l1;
      }
      if (now < cached.stored.usableUntil) {
        this.#refreshInBackground(entry, now, options?.waitUntil);
        return cached.views.l1;
      }
    }
    const pending = this.#obtain(entry);
    const waitUntil = options?.waitUntil;
    if (waitUntil !== undefined) {
      // The flight is shared: if this caller goes away, the runtime must still finish it
      // for the others waiting on it.
      try {
        // With the flight's background write and release, if it left them (slow store).
        const tail = () => this.#tails.get(entry.officeId);
        waitUntil(pending.then(tail, tail).catch(() => undefined));
      } catch {
        // Outside a request some runtimes refuse waitUntil; the callers still await it.
      }
    }
    return await raceAbort(pending, options?.signal);
  }

  /**
   * Forgets `accessToken` for `officeId` if it is still the cached one, in L1 and in L2
   * (compare-and-delete), so a token that AQC refused is not served again while a newer
   * token obtained meanwhile survives. Honoured at most once per office per
   * `evictionWindowSeconds` (default 30 s): within that window after an eviction the call
   * is refused (`false`, event `invalidated` with `refused: true`), so no caller can make
   * an office spend a token per call.
   *
   * @example
   * ```ts ignore
   * if (response.status === 401) await tokens.invalidate("NCE1A0955", token.accessToken);
   * ```
   *
   * @param officeId The office.
   * @param accessToken The token that failed.
   * @returns `true` when a cached copy was removed.
   */
  async invalidate(officeId: string, accessToken: string): Promise<boolean> {
    const entry = this.#offices.get(officeId);
    const now = this.#now();
    if (entry.evictedAt !== undefined && now - entry.evictedAt < this.#o.evictionWindowMs) {
      this.#emit({ type: "invalidated", officeId: entry.officeId, evicted: false, refused: true });
      return false;
    }
    let evicted = false;
    if (entry.token?.stored.accessToken === accessToken) {
      entry.token = undefined;
      evicted = true;
    }
    // Before the first await: a caller reading L2 while the delete is on its way would
    // adopt it back, and the eviction window would keep it for 30 s.
    reject(entry, accessToken);
    const id = await this.#id(entry);
    // A background write of this very token (a slow store) lands first, so that the delete
    // is not overtaken by it and a peer never adopts the token AQC refused.
    const tail = this.#tails.get(entry.officeId);
    if (tail !== undefined) await tail;
    evicted = await this.#shared.deleteToken(entry.officeId, id, accessToken) || evicted;
    if (evicted) entry.evictedAt = now;
    this.#emit({ type: "invalidated", officeId: entry.officeId, evicted });
    return evicted;
  }

  /**
   * Makes sure each office has a token that is not due for refresh: refreshes those
   * missing or inside their refresh window and waits for them. Meant for a cron trigger,
   * so that requests never wait on a token request. Never throws; reports per office.
   * Exempt from the new-office budget (the operator chose the list); at most 8 offices are
   * refreshed at a time.
   *
   * @example
   * ```ts ignore
   * const results = await tokens.prewarm(["NCE1A0955", "DELAI08AA"]);
   * console.log(results.filter((r) => !r.ok));
   * ```
   *
   * @param officeIds The offices to warm.
   * @returns One result per office, in order.
   */
  async prewarm(officeIds: Iterable<string>): Promise<PrewarmResult[]> {
    // Bounded: exempt from the new-office budget, a long list must still not become one
    // burst of parallel token requests (the burst a token endpoint rate-limits).
    // A string is an iterable of its characters: one id, not nine one-letter ones.
    const list = typeof officeIds === "string" ? [officeIds] : [...officeIds];
    return await mapLimited(list, PREWARM_CONCURRENCY, async (raw) => {
      let officeId = String(raw);
      try {
        const entry = this.#offices.get(raw);
        officeId = entry.officeId;
        entry.known = true;
        const token = await this.#obtain(entry, true);
        return { officeId, ok: true, source: token.source, expiresAt: token.expiresAt };
      } catch (error) {
        return { officeId, ok: false, ...(error instanceof AqcError ? { code: error.code } : {}) };
      }
    });
  }

  /**
   * Whether the shared store answers a read within its timeout (for readiness checks).
   * Reads an entry no office uses; costs one store command.
   *
   * @example
   * ```ts ignore
   * console.log(await tokens.probeStore()); // true
   * ```
   *
   * @returns `true` when the store answered.
   */
  async probeStore(): Promise<boolean> {
    return (await this.#shared.read("-", "readiness-probe", false)).ok;
  }

  /**
   * What this isolate holds per office, for status pages: no token, no I/O, at most `limit`
   * offices.
   *
   * @example
   * ```ts ignore
   * for (const office of tokens.inspect()) console.log(office.officeId, office.source);
   * ```
   *
   * @param limit Most offices returned; default 256.
   * @returns One state per office.
   */
  inspect(limit = 256): OfficeTokenState[] {
    return inspectOffices(this.#offices.values(), limit);
  }

  /**
   * Resolves once every refresh and background task started so far has settled —
   * including those handed to a `waitUntil` (they are tracked here as well) and the
   * store writes that end them. Useful in tests and before an isolate is shut down.
   *
   * @example
   * ```ts ignore
   * await tokens.whenIdle();
   * ```
   */
  async whenIdle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /**
   * `await using tokens = new TokenManager(…)`: waits for background work
   * ({@linkcode whenIdle}) when the scope ends. The manager stays usable afterwards.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.whenIdle();
  }

  #emit(event: TokenEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // An observer must never break token delivery.
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const done = (): void => void this.#pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  #id(entry: Entry): Promise<string> {
    return entry.id ??= tokenKeyId(this.#o.credentials, entry.officeId);
  }

  #refreshInBackground(
    entry: Entry,
    now: number,
    waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  ): void {
    if (entry.flight !== undefined || now < entry.nextBackgroundAt) {
      this.#emit({ type: "hit", officeId: entry.officeId, source: "l1" });
      return;
    }
    const work = this.#track(
      this.#flight(entry, true).finally(() => this.#tails.get(entry.officeId)).then(
        () => {
          entry.backgroundFailures = 0;
        },
        () => {
          // Stale-if-error: the cached token stays in service; try again after a backoff.
          // The pause shrinks with the cached token's runway, so that an attempt still
          // comes before it runs out (see backgroundRetryMs).
          entry.backgroundFailures++;
          const at = this.#now();
          const runway = entry.token === undefined ? Infinity : entry.token.stored.usableUntil - at;
          entry.nextBackgroundAt = at +
            backgroundRetryMs(entry.backgroundFailures, runway, this.#o.random);
        },
      ),
    );
    this.#emit({ type: "hit", officeId: entry.officeId, source: "l1" });
    if (waitUntil !== undefined) {
      try {
        waitUntil(work);
      } catch {
        // Some runtimes refuse waitUntil outside a request; it is tracked here anyway.
      }
    }
  }

  /**
   * A blocking caller: join or start the office's flight until a usable token comes
   * (with `fresh`, one that is not yet due for refresh).
   */
  async #obtain(entry: Entry, fresh = false): Promise<AccessToken> {
    for (;;) {
      const flight = entry.flight;
      if (flight !== undefined && flight.background) {
        // A background refresh may end without a new token (it defers to another
        // isolate); wait for it, then look again.
        await flight.promise.catch(() => undefined);
        continue;
      }
      const now = this.#now();
      const cached = entry.token;
      if (cached !== undefined && now < (fresh ? cached.refreshAt : cached.stored.usableUntil)) {
        return cached.views.l1;
      }
      if (flight === undefined && entry.failure !== undefined && now < entry.failure.until) {
        this.#emit({
          type: "negative_cache_hit",
          officeId: entry.officeId,
          code: entry.failure.code,
          retryAfterMs: entry.failure.until - now,
        });
        throw failureError(entry.failure, now);
      }
      return await this.#flight(entry, false);
    }
  }

  #flight(entry: Entry, background: boolean): Promise<AccessToken> {
    if (entry.flight !== undefined) return entry.flight.promise;
    const promise = this.#track(
      this.#refresh(entry, background).finally(() => {
        if (entry.flight?.promise === promise) entry.flight = undefined;
      }),
    );
    entry.flight = { promise, background };
    return promise;
  }

  async #refresh(entry: Entry, background: boolean): Promise<AccessToken> {
    const officeId = entry.officeId;
    this.#emit({ type: "refresh_started", officeId, background });
    const hooks = refreshHooks(entry, background, this.#o, this.#issuer, (e) => this.#emit(e));
    // The previous refresh's background write and release land first (at most two store
    // timeouts): its release would otherwise drop the lease this refresh extends (the owner
    // is the same), and a peer would make a second token request.
    const previous = this.#tails.get(officeId);
    if (previous !== undefined) await previous;
    return await this.#shared.refresh(officeId, await this.#id(entry), hooks, (work) => {
      const tail = this.#track(work);
      this.#tails.set(officeId, tail);
      void tail.finally(() => {
        if (this.#tails.get(officeId) === tail) this.#tails.delete(officeId);
      });
    });
  }
}
