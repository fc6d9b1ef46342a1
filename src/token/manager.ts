/**
 * `TokenManager`: AQC tokens per office, cached in-isolate (L1) and in a shared store
 * (L2), refreshed ahead of expiry by exactly one caller, safe under failures.
 *
 * @module
 */
import { DEFAULTS } from "../config/defaults.ts";
import { AqcError, type AqcErrorCode } from "../errors.ts";
import { normalizeOfficeId } from "../office.ts";
import { validateCredentials } from "./credentials.ts";
import { delay, raceAbort } from "./delay.ts";
import { tokenKeyId } from "./key.ts";
import { MemoryTokenStore } from "../store/memory_store.ts";
import { type IssuedToken, requestToken } from "./request.ts";
import type { StoredFailure, StoredToken, TokenStore } from "../store/store.ts";
import type {
  AccessToken,
  Credentials,
  GetTokenOptions,
  TokenEvent,
  TokenSource,
} from "./types.ts";

/** Options of {@linkcode TokenManager}. */
export interface TokenManagerOptions {
  /** The AQC API root, client id and client secret. */
  credentials: Credentials;
  /** The shared cache (L2); default a new `MemoryTokenStore` (this isolate only). */
  store?: TokenStore;
  /** Refresh this many seconds before expiry (plus jitter); default 300. */
  refreshAheadSeconds?: number;
  /** Never send a token closer than this to its expiry; default 30. */
  expirySkewSeconds?: number;
  /** Upper bound of the per-isolate random refresh jitter; default 60. */
  refreshJitterSeconds?: number;
  /** Transport for token requests; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
  /** Called for every hit, fetch, refresh and failure; must not throw (errors are ignored). */
  onEvent?: (event: TokenEvent) => void;
  /** Timeout of one token request in ms; default 5,000. */
  tokenRequestTimeoutMs?: number;
  /** Deadline for all attempts of one refresh in ms; default 10,000. */
  retryDeadlineMs?: number;
  /** First retry delay cap in ms (doubles each attempt, full jitter); default 200. */
  retryBaseDelayMs?: number;
  /** Largest retry delay cap in ms; default 2,000. */
  retryMaxDelayMs?: number;
  /** Timeout of one store call in ms; a slower store counts as a miss; default 500. */
  storeTimeoutMs?: number;
  /** Seconds a `credentials_rejected` answer is negative-cached; default 60. */
  rejectedCacheSeconds?: number;
  /** Seconds a transient failure is shared so waiters fail together; default 2. */
  transientFailureSeconds?: number;
}

/** One office's outcome of {@linkcode TokenManager.prototype.prewarm}. */
export interface PrewarmResult {
  /** The office as canonicalised, or as given when it was invalid. */
  officeId: string;
  /** Whether a usable token is cached now. */
  ok: boolean;
  /** Where the token came from, when `ok`. */
  source?: TokenSource;
  /** Its expiry, when `ok`. */
  expiresAt?: number;
  /** The error code, when not `ok`. */
  code?: AqcErrorCode;
}

interface CachedToken {
  stored: StoredToken;
  refreshAt: number;
  /** Answer objects made once, so a warm hit allocates nothing. */
  views: Record<TokenSource, AccessToken>;
  /** Where the token came from when it was installed (for `inspect`). */
  source: TokenSource;
}

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

interface Flight {
  promise: Promise<AccessToken>;
  background: boolean;
}

interface Entry {
  officeId: string;
  id?: Promise<string>;
  token?: CachedToken | undefined;
  failure?: StoredFailure | undefined;
  flight?: Flight | undefined;
  /** No background refresh before this (set after a failed or deferred one). */
  nextBackgroundAt: number;
  backgroundFailures: number;
  /** The last token invalidated: never adopted again from L2. */
  rejected?: string;
}

type StoreResult<T> = { ok: true; value: T } | { ok: false };

const MAX_ALIASES = 1024;

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

function makeView(
  officeId: string,
  token: StoredToken,
  source: TokenSource,
): AccessToken {
  const view = {
    tokenType: "Bearer" as const,
    officeId,
    issuedAt: token.issuedAt,
    expiresAt: token.expiresAt,
    usableUntil: token.usableUntil,
    source,
  };
  // Not enumerable: console.log(token) or JSON.stringify(token) must not print it.
  Object.defineProperty(view, "accessToken", { value: token.accessToken, enumerable: false });
  return Object.freeze(view) as AccessToken;
}

function failureError(failure: StoredFailure, now: number): AqcError {
  const retryAfterSeconds = Math.max(1, Math.ceil((failure.until - now) / 1000));
  const messages: Record<string, string> = {
    credentials_rejected: "Token endpoint rejected the client credentials",
    rate_limited: "Token endpoint is rate limiting token requests",
    token_endpoint_unavailable: "Token endpoint is unavailable",
    token_response_invalid: "Token endpoint answered an invalid token response",
  };
  return new AqcError(
    failure.code,
    `${messages[failure.code] ?? "Token request failed"} (retry in ${retryAfterSeconds} s)`,
    { ...(failure.status === undefined ? {} : { status: failure.status }), retryAfterSeconds },
  );
}

/**
 * Obtains, caches and refreshes AQC access tokens per office.
 *
 * - L1: a map in this isolate; a warm `getToken` is a map lookup and a clock read.
 * - L2: a {@linkcode TokenStore} shared by every isolate (`UpstashTokenStore`), read once
 *   when an isolate is cold.
 * - One refresh per office at a time: one promise per office in the isolate, and a lease
 *   in L2 across isolates.
 * - From `refreshAt` on, callers get the cached token at once while one background refresh
 *   runs; past `usableUntil` the token is never handed out.
 * - A failed refresh leaves the cached token in service until `usableUntil`.
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
  readonly #credentials: Credentials;
  readonly #store: TokenStore;
  readonly #fetch: typeof fetch | undefined;
  readonly #now: () => number;
  readonly #onEvent: ((event: TokenEvent) => void) | undefined;
  readonly #refreshAheadMs: number;
  readonly #skewMs: number;
  readonly #jitterMs: number;
  readonly #requestTimeoutMs: number;
  readonly #deadlineMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #storeTimeoutMs: number;
  readonly #rejectedMs: number;
  readonly #transientMs: number;
  /** Lease owner id, made on first use: workerd forbids random values at module scope. */
  #ownerId: string | undefined;
  readonly #entries = new Map<string, Entry>();
  /** Office ids as callers wrote them, so a warm call skips normalisation. */
  readonly #aliases = new Map<string, Entry>();
  readonly #background = new Set<Promise<unknown>>();

  /**
   * Creates a manager. Validates the options at once.
   *
   * @param options Credentials, store, timing and hooks.
   * @throws {AqcError} `config_invalid` naming the option that is wrong.
   */
  constructor(options: TokenManagerOptions) {
    if (typeof options !== "object" || options === null) {
      throw new AqcError("config_invalid", "TokenManager options are required");
    }
    this.#credentials = validateCredentials(options.credentials);
    this.#now = options.now ?? Date.now;
    this.#store = options.store ?? new MemoryTokenStore({ now: this.#now });
    this.#fetch = options.fetch;
    this.#onEvent = options.onEvent;
    const seconds = (name: keyof TokenManagerOptions, fallback: number): number => {
      const value = options[name] ?? fallback;
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new AqcError("config_invalid", `${name} must be a number of 0 or more`);
      }
      return value;
    };
    this.#refreshAheadMs = seconds("refreshAheadSeconds", DEFAULTS.refreshAheadSeconds) * 1000;
    this.#skewMs = seconds("expirySkewSeconds", DEFAULTS.expirySkewSeconds) * 1000;
    this.#jitterMs = seconds("refreshJitterSeconds", DEFAULTS.refreshJitterSeconds) * 1000;
    this.#requestTimeoutMs = seconds("tokenRequestTimeoutMs", DEFAULTS.tokenRequestTimeoutMs);
    this.#deadlineMs = seconds("retryDeadlineMs", DEFAULTS.retryDeadlineMs);
    this.#baseDelayMs = seconds("retryBaseDelayMs", DEFAULTS.retryBaseDelayMs);
    this.#maxDelayMs = seconds("retryMaxDelayMs", DEFAULTS.retryMaxDelayMs);
    this.#storeTimeoutMs = seconds("storeTimeoutMs", DEFAULTS.storeTimeoutMs);
    this.#rejectedMs = seconds("rejectedCacheSeconds", DEFAULTS.rejectedCacheSeconds) * 1000;
    this.#transientMs = seconds("transientFailureSeconds", DEFAULTS.transientFailureSeconds) * 1000;
  }

  get #owner(): string {
    return this.#ownerId ??= crypto.randomUUID();
  }

  /** The validated API root every token and request goes to. */
  get apiUrl(): string {
    return this.#credentials.apiUrl;
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
   * `rate_limited`, `token_endpoint_unavailable` or `token_response_invalid` when no
   * usable token can be had.
   */
  async getToken(officeId: string, options: GetTokenOptions = {}): Promise<AccessToken> {
    const entry = this.#aliases.get(officeId) ?? this.#entryFor(officeId);
    const cached = entry.token;
    if (cached !== undefined) {
      const now = this.#now();
      if (now < cached.refreshAt) {
        if (this.#onEvent) this.#emit({ type: "hit", officeId: entry.officeId, source: "l1" });
        return cached.views.l1;
      }
      if (now < cached.stored.usableUntil) {
        this.#refreshInBackground(entry, now, options.waitUntil);
        return cached.views.l1;
      }
    }
    const pending = this.#obtain(entry);
    if (options.waitUntil !== undefined) {
      // The flight is shared: if this caller goes away, the runtime must still finish it
      // for the others waiting on it.
      try {
        options.waitUntil(pending.catch(() => undefined));
      } catch {
        // Outside a request some runtimes refuse waitUntil; the callers still await it.
      }
    }
    return await raceAbort(pending, options.signal);
  }

  /**
   * Forgets `accessToken` for `officeId` if it is still the cached one, in L1 and in L2
   * (compare-and-delete), so a token that AQC refused is not served again while a newer
   * token obtained meanwhile survives.
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
    const entry = this.#entryFor(officeId);
    entry.rejected = accessToken;
    let evicted = false;
    if (entry.token?.stored.accessToken === accessToken) {
      entry.token = undefined;
      evicted = true;
    }
    const id = await this.#id(entry);
    const deleted = await this.#storeCall(
      entry,
      "deleteToken",
      (store) => store.deleteToken(id, accessToken),
    );
    evicted = evicted || (deleted.ok && deleted.value);
    this.#emit({ type: "invalidated", officeId: entry.officeId, evicted });
    return evicted;
  }

  /**
   * Makes sure each office has a token that is not due for refresh: refreshes those
   * missing or inside their refresh window and waits for them. Meant for a cron trigger,
   * so that requests never wait on a token request. Never throws; reports per office.
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
    const jobs = [...officeIds].map(async (raw): Promise<PrewarmResult> => {
      let officeId = String(raw);
      try {
        const entry = this.#entryFor(raw);
        officeId = entry.officeId;
        const token = await this.#obtain(entry, true);
        return { officeId, ok: true, source: token.source, expiresAt: token.expiresAt };
      } catch (error) {
        return { officeId, ok: false, ...(error instanceof AqcError ? { code: error.code } : {}) };
      }
    });
    return await Promise.all(jobs);
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
    const probe: Entry = { officeId: "-", nextBackgroundAt: 0, backgroundFailures: 0 };
    const result = await this.#storeCall(probe, "probe", (store) => store.read("readiness-probe"));
    return result.ok;
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
    const out: OfficeTokenState[] = [];
    for (const entry of this.#entries.values()) {
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

  /**
   * Resolves once every background refresh started so far has settled. Useful in tests
   * and before an isolate is shut down.
   *
   * @example
   * ```ts ignore
   * await tokens.whenIdle();
   * ```
   */
  async whenIdle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  #entryFor(rawOfficeId: string): Entry {
    const officeId = normalizeOfficeId(rawOfficeId);
    let entry = this.#entries.get(officeId);
    if (entry === undefined) {
      entry = { officeId, nextBackgroundAt: 0, backgroundFailures: 0 };
      this.#entries.set(officeId, entry);
    }
    if (this.#aliases.size < MAX_ALIASES) this.#aliases.set(rawOfficeId, entry);
    return entry;
  }

  #emit(event: TokenEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // An observer must never break token delivery.
    }
  }

  #id(entry: Entry): Promise<string> {
    return entry.id ??= tokenKeyId(this.#credentials, entry.officeId);
  }

  /** Runs one store call within the store timeout; any failure is reported and a miss. */
  async #storeCall<T>(
    entry: Entry,
    operation: string,
    call: (store: TokenStore) => Promise<T>,
  ): Promise<StoreResult<T>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Store did not answer within ${this.#storeTimeoutMs} ms`)),
          this.#storeTimeoutMs,
        );
      });
      const value = await Promise.race([call(this.#store), timeout]);
      return { ok: true, value };
    } catch (error) {
      this.#emit({
        type: "store_error",
        officeId: entry.officeId,
        operation,
        message: storeErrorMessage(error),
      });
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
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
    const work = this.#flight(entry, true).then(
      () => {
        entry.backgroundFailures = 0;
      },
      () => {
        // Stale-if-error: the cached token stays in service; try again after a backoff.
        entry.backgroundFailures++;
        const cap = Math.min(30_000, 1_000 * 2 ** Math.min(entry.backgroundFailures, 5));
        entry.nextBackgroundAt = this.#now() + cap / 2 + Math.random() * (cap / 2);
      },
    );
    this.#emit({ type: "hit", officeId: entry.officeId, source: "l1" });
    if (waitUntil !== undefined) {
      try {
        waitUntil(work);
        return;
      } catch {
        // Some runtimes refuse waitUntil outside a request; fall back to tracking it here.
      }
    }
    this.#background.add(work);
    void work.finally(() => this.#background.delete(work));
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
    const promise = this.#refresh(entry, background).finally(() => {
      if (entry.flight?.promise === promise) entry.flight = undefined;
    });
    entry.flight = { promise, background };
    return promise;
  }

  #install(entry: Entry, token: StoredToken, source: TokenSource): AccessToken {
    const lifetime = Math.max(0, token.expiresAt - token.issuedAt);
    // Short-lived tokens (simulators, tests) would otherwise be due before they arrive:
    // the skew is capped at a quarter and the refresh lead at half of the lifetime.
    const skew = Math.min(this.#skewMs, lifetime / 4);
    const usableUntil = Math.min(token.usableUntil, token.expiresAt - skew);
    const window = this.#refreshAheadMs + this.#jitterMs;
    const scale = window > lifetime / 2 ? lifetime / 2 / window : 1;
    const lead = (this.#refreshAheadMs + Math.random() * this.#jitterMs) * scale;
    const stored = { ...token, usableUntil };
    const views = {
      l1: makeView(entry.officeId, stored, "l1"),
      l2: makeView(entry.officeId, stored, "l2"),
      endpoint: makeView(entry.officeId, stored, "endpoint"),
    };
    entry.token = {
      stored,
      refreshAt: Math.min(token.expiresAt - Math.max(lead, skew), usableUntil),
      views,
      source,
    };
    entry.failure = undefined;
    entry.nextBackgroundAt = 0;
    return views[source];
  }

  /** A shared token worth adopting: usable, not refused, and newer than ours. */
  #adoptable(entry: Entry, token: StoredToken | undefined, now: number): boolean {
    if (token === undefined || token.accessToken === entry.rejected) return false;
    if (now >= token.usableUntil) return false;
    const current = entry.token?.stored;
    return current === undefined || now >= current.usableUntil ||
      token.expiresAt > current.expiresAt;
  }

  /**
   * Reads the office's entry in L2: the token installed in L1 when worth adopting, the
   * standing shared failure as an error to throw, or `undefined` (a miss, or the store did
   * not answer).
   */
  async #readShared(
    entry: Entry,
    id: string,
    fresh = false,
  ): Promise<AccessToken | AqcError | undefined> {
    const read = await this.#storeCall(entry, "read", (store) => store.read(id, { fresh }));
    if (!read.ok) return undefined;
    const now = this.#now();
    const { token, failure } = read.value;
    if (this.#adoptable(entry, token, now)) {
      this.#emit({ type: "hit", officeId: entry.officeId, source: "l2" });
      return this.#install(entry, token!, "l2");
    }
    if (failure !== undefined && now < failure.until) {
      entry.failure = failure;
      this.#emit({
        type: "negative_cache_hit",
        officeId: entry.officeId,
        code: failure.code,
        retryAfterMs: failure.until - now,
      });
      return failureError(failure, now);
    }
    return undefined;
  }

  async #refresh(entry: Entry, background: boolean): Promise<AccessToken> {
    const officeId = entry.officeId;
    this.#emit({ type: "refresh_started", officeId, background });
    const id = await this.#id(entry);
    const shared = await this.#readShared(entry, id);
    if (shared instanceof AqcError) throw shared;
    if (shared !== undefined) return shared;
    let now = this.#now();
    const leaseTtlMs = this.#deadlineMs + this.#requestTimeoutMs;
    let leased = await this.#storeCall(
      entry,
      "acquireLease",
      (store) => store.acquireLease(id, this.#owner, leaseTtlMs),
    );
    // A store that cannot answer must not stop the refresh: proceed as the holder.
    if (leased.ok && !leased.value) {
      if (background) {
        // Another isolate is refreshing; keep serving ours and look at L2 again soon, and
        // in any case before ours runs out (halfway through what is left of it), so that
        // with short lifetimes callers do not block for the peer's token.
        const cached = entry.token;
        const runway = cached === undefined ? Infinity : cached.stored.usableUntil - now;
        const pause = Math.min(500 + Math.random() * 1_000, Math.max(50, runway / 2));
        entry.nextBackgroundAt = now + pause;
        this.#emit({ type: "hit", officeId, source: "l1" });
        if (cached !== undefined) return cached.views.l1;
      }
      const waited = await this.#waitForPeer(entry, id, leaseTtlMs);
      if (waited !== undefined) return waited;
      leased = { ok: true, value: true };
    }
    let peerFailure: AqcError | undefined;
    try {
      if (leased.ok && leased.value) {
        // Double-check once the lease is ours: a peer on another thread may have fetched,
        // written and released between our read and our lease, and a second token request
        // would be wasted (seen with two `deno serve --parallel` isolates at a cold start).
        const again = await this.#readShared(entry, id, true);
        if (again instanceof AqcError) throw (peerFailure = again);
        if (again !== undefined) return again;
      }
      const issued = await this.#requestWithRetries(entry);
      now = this.#now();
      const token: StoredToken = {
        accessToken: issued.accessToken,
        issuedAt: issued.issuedAt,
        expiresAt: issued.expiresAt,
        usableUntil: issued.expiresAt,
      };
      const view = this.#install(entry, token, "endpoint");
      const stored = entry.token!.stored;
      await this.#storeCall(entry, "writeToken", (store) => store.writeToken(id, stored));
      return view;
    } catch (error) {
      // A peer's failure is shared as it stands, not recorded again as ours.
      if (!(error instanceof AqcError) || error === peerFailure) throw error;
      now = this.#now();
      const hold = error.code === "credentials_rejected"
        ? this.#rejectedMs
        : error.code === "rate_limited"
        ? Math.max(this.#transientMs, (error.retryAfterSeconds ?? 0) * 1000)
        : this.#transientMs;
      const failure: StoredFailure = {
        code: error.code,
        at: now,
        until: now + hold,
        ...(error.status === undefined ? {} : { status: error.status }),
      };
      entry.failure = failure;
      this.#emit({ type: "refresh_failed", officeId, code: error.code, background });
      await this.#storeCall(entry, "writeFailure", (store) => store.writeFailure(id, failure));
      throw error;
    } finally {
      // Released even when taking it timed out: a timed-out SET NX may still land, and a
      // lease nobody releases would stall every other isolate until its TTL (seen under
      // load, when Redis answers slower than the store timeout). Compare-and-delete makes
      // this harmless when the lease is not ours.
      await this.#storeCall(
        entry,
        "releaseLease",
        (store) => store.releaseLease(id, this.#owner),
      );
    }
  }

  /**
   * Another isolate holds the lease: poll L2 with backoff until its token or failure
   * appears, or take the lease over once it is released or has expired (a dead holder).
   * Returns `undefined` when this caller now holds the lease.
   */
  async #waitForPeer(
    entry: Entry,
    id: string,
    leaseTtlMs: number,
  ): Promise<AccessToken | undefined> {
    const officeId = entry.officeId;
    const started = this.#now();
    const startedWall = Date.now();
    const deadline = startedWall + leaseTtlMs + this.#storeTimeoutMs;
    let pause = 25;
    const report = (outcome: "token" | "failure" | "acquired" | "timeout") =>
      this.#emit({ type: "lease_wait", officeId, waitedMs: Date.now() - startedWall, outcome });
    while (Date.now() < deadline) {
      await delay(pause * (0.5 + Math.random() / 2));
      pause = Math.min(pause * 2, 400);
      const read = await this.#storeCall(entry, "read", (store) => store.read(id, { fresh: true }));
      const now = this.#now();
      if (read.ok) {
        const { token, failure } = read.value;
        if (this.#adoptable(entry, token, now)) {
          report("token");
          return this.#install(entry, token!, "l2");
        }
        if (failure !== undefined && failure.at >= started && now < failure.until) {
          entry.failure = failure;
          report("failure");
          throw failureError(failure, now);
        }
      }
      const leased = await this.#storeCall(
        entry,
        "acquireLease",
        (store) => store.acquireLease(id, this.#owner, leaseTtlMs),
      );
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

  async #requestWithRetries(entry: Entry): Promise<IssuedToken> {
    const started = Date.now();
    const deadline = started + this.#deadlineMs;
    for (let attempt = 1;; attempt++) {
      const remaining = deadline - Date.now();
      try {
        const issued = await requestToken(this.#credentials, entry.officeId, {
          ...(this.#fetch ? { fetch: this.#fetch } : {}),
          now: this.#now,
          timeoutMs: Math.max(1, Math.min(this.#requestTimeoutMs, remaining)),
        });
        this.#emit({
          type: "token_fetched",
          officeId: entry.officeId,
          durationMs: Date.now() - started,
          attempts: attempt,
        });
        return issued;
      } catch (error) {
        if (!(error instanceof AqcError)) throw error;
        const retryable = error.code === "token_endpoint_unavailable" ||
          error.code === "rate_limited";
        const cap = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
        let wait = Math.random() * cap;
        if (error.retryAfterSeconds !== undefined) {
          wait = Math.max(wait, error.retryAfterSeconds * 1000);
        }
        const willRetry = retryable && Date.now() + wait < deadline;
        this.#emit({
          type: "token_fetch_failed",
          officeId: entry.officeId,
          code: error.code,
          ...(error.status === undefined ? {} : { status: error.status }),
          attempt,
          willRetry,
          ...(willRetry ? { delayMs: Math.round(wait) } : {}),
        });
        if (!willRetry) throw error;
        await delay(wait);
      }
    }
  }
}
