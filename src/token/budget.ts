/**
 * A token bucket: how many token requests offices new to this manager may cause, so a
 * flood of distinct office ids cannot turn into a flood of token requests. Pure, with an
 * injected clock.
 *
 * @module
 */

/**
 * Holds up to `burst` permits, refilled at `perSecond`.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./budget.ts";
 *
 * let t = 0;
 * const bucket = new TokenBucket(2, 1, () => t);
 * if (!(bucket.take() === 0 && bucket.take() === 0 && bucket.take() > 0)) throw new Error();
 * t += 1_000;
 * if (bucket.take() !== 0) throw new Error("refilled");
 * ```
 */
export class TokenBucket {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #now: () => number;
  #permits: number;
  #at: number | undefined;

  /**
   * Creates a full bucket (the clock is first read on the first `take`).
   *
   * @param burst Largest number of permits.
   * @param perSecond Refill rate; 0 never refills.
   * @param now Ms clock; default `Date.now`.
   */
  constructor(burst: number, perSecond: number, now: () => number = Date.now) {
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#now = now;
    this.#permits = burst;
  }

  /**
   * Takes one permit if there is one.
   *
   * @returns 0 when taken, else the ms until one is available (`Infinity` if never).
   */
  take(): number {
    const now = this.#now();
    if (this.#at !== undefined) {
      this.#permits = Math.min(
        this.#burst,
        this.#permits + Math.max(0, now - this.#at) * this.#perMs,
      );
    }
    this.#at = now;
    if (this.#permits >= 1) {
      this.#permits -= 1;
      return 0;
    }
    return this.#perMs > 0 ? Math.ceil((1 - this.#permits) / this.#perMs) : Infinity;
  }
}
