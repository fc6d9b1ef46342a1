/**
 * Sending token requests within the manager's budget: the new-office token bucket, the
 * client's circuit breaker (shared with other isolates through the store) and the retry
 * loop.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import type { StoredFailure } from "../store/store.ts";
import { CircuitBreaker } from "./breaker.ts";
import { TokenBucket } from "./budget.ts";
import { tokenKeyId } from "./key.ts";
import type { ResolvedOptions } from "./options.ts";
import { type IssuedToken, requestToken } from "./request.ts";
import { requestWithRetries } from "./retry.ts";
import { usableUntilOf } from "./schedule.ts";
import type { SharedCache } from "./shared_cache.ts";
import type { TokenEvent } from "./types.ts";

/** The id under which a client's open circuit is shared (no office id has this form). */
const CLIENT_ENTRY = "*";

/**
 * Longest open period of the circuit, whatever a `Retry-After` or a shared record says:
 * stale tokens are served meanwhile, but new offices and expired tokens wait, so neither a
 * broken header nor a forged record may stop a client for up to an hour.
 */
const MAX_ADOPTED_MS = 300_000;

/** Sends the token requests of one manager (one client). */
export class TokenIssuer {
  readonly #o: ResolvedOptions;
  readonly #shared: SharedCache;
  readonly #emit: (event: TokenEvent) => void;
  readonly #track: (work: Promise<unknown>) => void;
  readonly #breaker: CircuitBreaker;
  readonly #newOffices: TokenBucket;
  #clientId: Promise<string> | undefined;

  /**
   * Creates the issuer; reads no clock and draws no random number yet.
   *
   * @param o The manager's resolved options.
   * @param shared The manager's shared cache.
   * @param emit Reports events.
   * @param track Registers background work for `whenIdle`.
   */
  constructor(
    o: ResolvedOptions,
    shared: SharedCache,
    emit: (event: TokenEvent) => void,
    track: (work: Promise<unknown>) => void,
  ) {
    this.#o = o;
    this.#shared = shared;
    this.#emit = emit;
    this.#track = track;
    this.#breaker = new CircuitBreaker({
      threshold: o.breakerThreshold,
      openMs: o.transientMs,
      maxOpenMs: MAX_ADOPTED_MS,
      now: o.now,
      random: o.random,
    });
    this.#newOffices = new TokenBucket(o.newOfficeBurst, o.newOfficesPerSecond, o.now);
  }

  /**
   * Spends one permit of the new-office budget (for an office this manager never held a
   * token for). A refusal is this isolate's budget, not the endpoint's state: it is
   * neither negative-cached nor shared through L2.
   *
   * @returns `undefined` when granted, else the `rate_limited` error to throw.
   */
  admitNewOffice(): AqcError | undefined {
    const waitMs = this.#newOffices.take();
    if (waitMs === 0) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.min(waitMs, MAX_ADOPTED_MS) / 1000));
    return new AqcError(
      "rate_limited",
      `Too many new offices are asking for a token (retry in ${retryAfterSeconds} s)`,
      { retryAfterSeconds },
    );
  }

  /**
   * Adopts an open circuit another isolate shared: one store read per token request about
   * to be sent (never per call), skipped while this isolate's breaker is tripped anyway.
   *
   * @param officeId The office about to be refreshed (events only).
   */
  async prepare(officeId: string): Promise<void> {
    if (!this.#breaker.tripped) await this.#adoptSharedCircuit(officeId);
  }

  /**
   * Sends the token request for an office, retrying within the deadline through the
   * client's circuit breaker and sharing it when it opens.
   *
   * @param officeId The canonical office id.
   * @returns The issued token.
   * @throws {AqcError} The classified failure, or the breaker's.
   */
  async request(officeId: string): Promise<IssuedToken> {
    const o = this.#o;
    const result = await requestWithRetries(
      (timeoutMs) =>
        requestToken(o.credentials, officeId, {
          ...(o.fetch ? { fetch: o.fetch } : {}),
          now: o.now,
          timeoutMs,
        }),
      {
        deadlineMs: o.deadlineMs,
        attemptTimeoutMs: o.requestTimeoutMs,
        baseDelayMs: o.baseDelayMs,
        maxDelayMs: o.maxDelayMs,
        random: o.random,
        gate: {
          admit: () => this.#breaker.admit(),
          success: () => this.#breaker.success(),
          failure: (error) => {
            const opened = this.#breaker.failure(error);
            if (opened) this.#track(this.#shareOpenCircuit(officeId, error));
            return opened;
          },
        },
        onFailure: ({ error, attempt, willRetry, delayMs }) =>
          this.#emit({
            type: "token_fetch_failed",
            officeId,
            code: error.code,
            ...(error.status === undefined ? {} : { status: error.status }),
            attempt,
            willRetry,
            ...(delayMs === undefined ? {} : { delayMs }),
          }),
      },
    );
    this.#emit({
      type: "token_fetched",
      officeId,
      durationMs: result.durationMs,
      attempts: result.attempts,
    });
    // An endpoint slower than the lifetime it grants: the token is dead on arrival, and
    // handing it out would break the promise that no token is sent past `usableUntil`.
    const issued = result.value;
    if (o.now() >= usableUntilOf({ ...issued, usableUntil: issued.expiresAt }, o.skewMs)) {
      throw new AqcError(
        "token_response_invalid",
        "Token endpoint answered a token that expired before it arrived",
        { status: 200 },
      );
    }
    return issued;
  }

  #client(): Promise<string> {
    return this.#clientId ??= tokenKeyId(this.#o.credentials, CLIENT_ENTRY);
  }

  async #adoptSharedCircuit(officeId: string): Promise<void> {
    const read = await this.#shared.read(officeId, await this.#client(), false);
    const failure = read.ok ? read.value.failure : undefined;
    const now = this.#o.now();
    if (failure !== undefined && now < failure.until) {
      this.#breaker.adopt(Math.min(failure.until, now + MAX_ADOPTED_MS), failure.code);
    }
  }

  /** Tells other isolates that this client's circuit is open, and until when. */
  async #shareOpenCircuit(officeId: string, error: AqcError): Promise<void> {
    const failure: StoredFailure = {
      code: error.code,
      at: this.#o.now(),
      until: this.#breaker.openUntil,
      ...(error.status === undefined ? {} : { status: error.status }),
    };
    await this.#shared.writeFailure(officeId, await this.#client(), failure);
  }
}
