/**
 * Requests and errors per office and minute, for the status page: a ring of one-minute
 * buckets per office, bounded in offices and minutes.
 *
 * @module
 */

/** Minutes kept per office. */
export const STATS_MINUTES = 15;
/** Most offices tracked; the least recently seen is dropped beyond. */
export const MAX_STATS_OFFICES = 256;

/** One minute of one office. */
export interface MinuteStats {
  /** Epoch ms at the start of the minute. */
  at: number;
  /** Answers given (any status). */
  requests: number;
  /** Answers of 500 and above. */
  errors: number;
  /** Answers of 429 (the caller's limit, or an AQC 429 hold). */
  limited: number;
}

interface Ring {
  /** Minute index (epoch ms / 60,000) of each slot. */
  minute: number[];
  requests: number[];
  errors: number[];
  limited: number[];
}

function emptyRing(): Ring {
  const zeros = () => new Array<number>(STATS_MINUTES).fill(0);
  return {
    minute: new Array<number>(STATS_MINUTES).fill(-1),
    requests: zeros(),
    errors: zeros(),
    limited: zeros(),
  };
}

/** Counts answers per office and minute. */
export class RequestStats {
  readonly #now: () => number;
  readonly #offices = new Map<string, Ring>();

  /**
   * Creates the counters.
   *
   * @param now Epoch ms clock; default `Date.now`.
   */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Counts one answer.
   *
   * @param officeId The canonical office.
   * @param status The HTTP status answered.
   */
  record(officeId: string, status: number): void {
    let ring = this.#offices.get(officeId);
    if (ring === undefined) {
      if (this.#offices.size >= MAX_STATS_OFFICES) {
        this.#offices.delete(this.#offices.keys().next().value!);
      }
      ring = emptyRing();
    } else {
      // Re-inserted: the map's order is least recently seen first.
      this.#offices.delete(officeId);
    }
    this.#offices.set(officeId, ring);
    const minute = Math.floor(this.#now() / 60_000);
    const slot = minute % STATS_MINUTES;
    if (ring.minute[slot] !== minute) {
      ring.minute[slot] = minute;
      ring.requests[slot] = 0;
      ring.errors[slot] = 0;
      ring.limited[slot] = 0;
    }
    ring.requests[slot]++;
    if (status >= 500) ring.errors[slot]++;
    if (status === 429) ring.limited[slot]++;
  }

  /** The offices seen, most recently seen last. */
  offices(): string[] {
    return [...this.#offices.keys()];
  }

  /**
   * The last {@linkcode STATS_MINUTES} minutes of an office, oldest first, the current
   * minute last; minutes without traffic are zeros.
   *
   * @param officeId The canonical office.
   * @returns One entry per minute.
   */
  minutes(officeId: string): MinuteStats[] {
    const ring = this.#offices.get(officeId);
    const current = Math.floor(this.#now() / 60_000);
    const out: MinuteStats[] = [];
    for (let minute = current - STATS_MINUTES + 1; minute <= current; minute++) {
      const slot = minute % STATS_MINUTES;
      const live = ring !== undefined && ring.minute[slot] === minute;
      out.push({
        at: minute * 60_000,
        requests: live ? ring.requests[slot] : 0,
        errors: live ? ring.errors[slot] : 0,
        limited: live ? ring.limited[slot] : 0,
      });
    }
    return out;
  }
}
