/**
 * The per-client circuit breaker of the token endpoint: after repeated 429/5xx/timeouts,
 * or as soon as the endpoint sends `Retry-After`, no office of the client may send a
 * token request until the breaker half-opens; then one probe decides. Pure, with an
 * injected clock and `random`.
 *
 * @module
 */
import { AqcError, type AqcErrorCode } from "../errors.ts";

/** Options of {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive retryable failures that open it; default 5. */
  threshold?: number;
  /**
   * Open period in ms (±25 % jitter) when the endpoint sent no `Retry-After`; default
   * 2,000. Not grown on failed probes: each period costs one probe, which already bounds
   * the load, and a short period lets service resume soon after the endpoint does.
   */
  openMs?: number;
  /** Longest open period in ms, whatever `Retry-After` asks; default 300,000. */
  maxOpenMs?: number;
  /** Ms clock; default `Date.now`. */
  now?: () => number;
  /** Uniform in [0, 1); default `Math.random`. */
  random?: () => number;
}

/** Whether a token request may be sent now. */
export type Admission =
  | { ok: true }
  | {
    ok: false;
    /** How long to wait before asking again. */
    waitMs: number;
    /** What to throw when the caller cannot wait that long. */
    error: AqcError;
  };

/** Codes that say the endpoint is overloaded or down: the only ones the breaker counts. */
export function isRetryableCode(code: AqcErrorCode): boolean {
  return code === "token_endpoint_unavailable" || code === "rate_limited";
}

/** How often a caller checks again while another caller's probe is in flight. */
const PROBE_POLL_MS = 50;

/**
 * Closed → (threshold failures, or any `Retry-After`) → open → (period over) → half-open:
 * one probe at a time → success closes it, failure opens it again.
 *
 * @example
 * ```ts
 * import { AqcError } from "../errors.ts";
 * import { CircuitBreaker } from "./breaker.ts";
 *
 * let t = 0;
 * const breaker = new CircuitBreaker({ now: () => t, threshold: 1, random: () => 0.5 });
 * breaker.failure(new AqcError("token_endpoint_unavailable", "Token endpoint answered 503"));
 * if (breaker.admit().ok) throw new Error("should be open");
 * t += 2_500;
 * if (!breaker.admit().ok) throw new Error("should let one probe through");
 * ```
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #maxOpenMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  #consecutive = 0;
  #opens = 0;
  #openUntil = 0;
  #probing = false;
  #code: AqcErrorCode = "token_endpoint_unavailable";
  #status: number | undefined;

  /**
   * Creates a closed breaker.
   *
   * @param options Threshold, periods, clock and randomness.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = Math.max(1, options.threshold ?? 5);
    this.#openMs = options.openMs ?? 2_000;
    this.#maxOpenMs = options.maxOpenMs ?? 300_000;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Epoch ms (breaker clock) until which it is open; 0 when closed. */
  get openUntil(): number {
    return this.#openUntil;
  }

  /** Whether it is open or half-open. */
  get tripped(): boolean {
    return this.#opens > 0;
  }

  /**
   * Asks to send one token request. When it answers `ok`, the caller must report the
   * outcome with {@linkcode success} or {@linkcode failure}.
   *
   * @returns `ok`, or how long to wait and the error to throw instead.
   */
  admit(): Admission {
    const now = this.#now();
    if (now < this.#openUntil) {
      return {
        ok: false,
        waitMs: this.#openUntil - now,
        error: this.#error(this.#openUntil - now),
      };
    }
    if (this.#opens === 0) return { ok: true };
    if (this.#probing) return { ok: false, waitMs: PROBE_POLL_MS, error: this.#error(1_000) };
    this.#probing = true;
    return { ok: true };
  }

  /** The endpoint answered (a token, or a definite refusal): close. */
  success(): void {
    this.#consecutive = 0;
    this.#opens = 0;
    this.#openUntil = 0;
    this.#probing = false;
  }

  /**
   * Reports a failed token request. Non-retryable codes mean the endpoint answered, and
   * close the breaker like a success.
   *
   * @param error The classified failure.
   * @returns `true` when this failure opened (or re-opened) the breaker.
   */
  failure(error: AqcError): boolean {
    if (!isRetryableCode(error.code)) {
      this.success();
      return false;
    }
    this.#probing = false;
    this.#consecutive++;
    this.#code = error.code;
    this.#status = error.status;
    const now = this.#now();
    const asked = error.retryAfterSeconds === undefined ? 0 : error.retryAfterSeconds * 1000;
    if (asked === 0 && this.#opens === 0 && this.#consecutive < this.#threshold) return false;
    const own = this.#openMs * (0.75 + this.#random() / 2);
    const period = Math.min(this.#maxOpenMs, Math.max(asked, own));
    this.#opens++;
    this.#openUntil = Math.max(this.#openUntil, now + period);
    return true;
  }

  /**
   * Adopts an open period another isolate recorded (shared through the store).
   *
   * @param untilMs Epoch ms on this breaker's clock.
   * @param code The code callers get meanwhile.
   */
  adopt(untilMs: number, code: AqcErrorCode): void {
    const until = Math.min(untilMs, this.#now() + this.#maxOpenMs);
    if (!isRetryableCode(code) || until <= this.#openUntil) return;
    this.#code = code;
    this.#opens = Math.max(this.#opens, 1);
    this.#openUntil = until;
  }

  #error(waitMs: number): AqcError {
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    return new AqcError(
      this.#code,
      `Token requests are paused after token endpoint failures (retry in ${retryAfterSeconds} s)`,
      { ...(this.#status === undefined ? {} : { status: this.#status }), retryAfterSeconds },
    );
  }
}
