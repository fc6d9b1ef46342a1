/**
 * The retry policy of token requests: attempts inside a deadline, exponential backoff with
 * full jitter, `Retry-After` honoured, and a circuit breaker consulted before every
 * attempt. Clock, delay and randomness are injected, so it is tested without a network.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { type Admission, isRetryableCode } from "./breaker.ts";

/** What {@linkcode requestWithRetries} needs of a circuit breaker. */
export interface RetryGate {
  /** May an attempt be sent now? */
  admit(): Admission;
  /** An admitted attempt succeeded. */
  success(): void;
  /** An admitted attempt failed with a classified error. */
  failure(error: AqcError): boolean;
}

/** One failed attempt, as reported to `onFailure`. */
export interface AttemptFailure {
  /** The classified error. */
  error: AqcError;
  /** 1-based attempt number. */
  attempt: number;
  /** Whether another attempt follows. */
  willRetry: boolean;
  /** The wait before it, when `willRetry`. */
  delayMs?: number;
}

/** Options of {@linkcode requestWithRetries}. */
export interface RetryOptions {
  /** Deadline for all attempts, in ms from the start. */
  deadlineMs: number;
  /** Timeout of one attempt in ms (cut to what is left of the deadline). */
  attemptTimeoutMs: number;
  /** First backoff cap in ms; doubles per attempt. */
  baseDelayMs: number;
  /** Largest backoff cap in ms. */
  maxDelayMs: number;
  /** Uniform in [0, 1); default `Math.random`. */
  random?: () => number;
  /** Ms clock for the deadline; default `Date.now`. */
  clock?: () => number;
  /** Waits `ms`; default a timer. */
  delay?: (ms: number) => Promise<void>;
  /** Consulted before every attempt, told of every outcome. */
  gate?: RetryGate;
  /** Called for every failed attempt. */
  onFailure?: (failure: AttemptFailure) => void;
}

/** A successful outcome. */
export interface RetryResult<T> {
  /** What the attempt returned. */
  value: T;
  /** Attempts sent, 1 or more. */
  attempts: number;
  /** Ms from the start to the success. */
  durationMs: number;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Runs `attempt` until it succeeds, fails with a code that is not retried
 * (`rate_limited` and `token_endpoint_unavailable` are), or the next wait would cross the
 * deadline. The wait is full jitter over a doubling cap, at least the error's
 * `retryAfterSeconds`, and at least as long as the gate stays closed; a gate that stays
 * closed past the deadline ends the loop with the gate's error (no request sent).
 *
 * No attempt starts after a wait with less than a tenth of the attempt timeout (or of the
 * deadline, when shorter; 500 ms with the defaults) left: it would most likely time out, answering the caller "did not answer in time"
 * instead of the clear `rate_limited` or unavailable it waited on, and could make the
 * endpoint issue a token that nobody waits for any more.
 *
 * @example
 * ```ts
 * import { AqcError } from "../errors.ts";
 * import { requestWithRetries } from "./retry.ts";
 *
 * let calls = 0;
 * const result = await requestWithRetries(() => {
 *   if (++calls < 3) throw new AqcError("token_endpoint_unavailable", "Token endpoint answered 503");
 *   return Promise.resolve("token");
 * }, { deadlineMs: 1_000, attemptTimeoutMs: 100, baseDelayMs: 1, maxDelayMs: 2 });
 * if (result.value !== "token" || result.attempts !== 3) throw new Error("retries");
 * ```
 *
 * @param attempt Sends one request with the given timeout in ms.
 * @param options Deadline, backoff, injected clock/delay/random, gate and reporting.
 * @returns The value and how many attempts it took.
 * @throws {AqcError} The last attempt's error, or the gate's; any other error at once.
 */
export async function requestWithRetries<T>(
  attempt: (timeoutMs: number) => Promise<T>,
  options: RetryOptions,
): Promise<RetryResult<T>> {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const wait = options.delay ?? sleep;
  const started = clock();
  const deadline = started + options.deadlineMs;
  // The latest an attempt may start after a wait; the first, sent without one, has the
  // whole deadline.
  const lastStart = deadline - Math.min(options.attemptTimeoutMs, options.deadlineMs) / 10;
  for (let n = 1;; n++) {
    // Wait while the gate is closed; give up with its error when the wait would end too
    // close to the deadline for an attempt to be worth sending.
    for (;;) {
      const admission = options.gate?.admit() ?? { ok: true };
      if (admission.ok) break;
      if (clock() + admission.waitMs >= lastStart) throw admission.error;
      await wait(admission.waitMs);
    }
    const remaining = deadline - clock();
    try {
      const value = await attempt(Math.max(1, Math.min(options.attemptTimeoutMs, remaining)));
      options.gate?.success();
      return { value, attempts: n, durationMs: clock() - started };
    } catch (error) {
      if (!(error instanceof AqcError)) {
        // Never leave a half-open gate waiting for a probe outcome that will not come.
        options.gate?.failure(new AqcError("token_endpoint_unavailable", "Token request failed"));
        throw error;
      }
      options.gate?.failure(error);
      const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (n - 1));
      let pause = random() * cap;
      if (error.retryAfterSeconds !== undefined) {
        pause = Math.max(pause, error.retryAfterSeconds * 1000);
      }
      const willRetry = isRetryableCode(error.code) && clock() + pause < lastStart;
      options.onFailure?.({
        error,
        attempt: n,
        willRetry,
        ...(willRetry ? { delayMs: Math.round(pause) } : {}),
      });
      if (!willRetry) throw error;
      await wait(pause);
    }
  }
}
