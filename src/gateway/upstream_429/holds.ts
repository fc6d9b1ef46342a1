/**
 * AQC 429s respected fleet-wide: when AQC answers an office's call with 429 (code 38194) and
 * `Retry-After`, the office is "held": its callers get a local 429 with the remaining
 * `Retry-After` until the window ends, instead of more requests to AQC. With Upstash the hold
 * is shared: the isolate that saw the 429 writes it, the others read it (at most once per
 * `pollMs` per office: one request per second and office waits for that read).
 *
 * @module
 */
import { opaqueNames, type OpsRedis, script } from "../shared/ops_redis.ts";

/** How AQC 429s are handled: `shared` (fleet-wide), `local` (this isolate), `pass` (off). */
export type UpstreamHoldMode = "shared" | "local" | "pass";

/** Longest hold, whatever `Retry-After` says: a broken upstream cannot pin an office. */
export const MAX_HOLD_MS = 300_000;
/** Hold when a 429 has no usable `Retry-After`. */
export const DEFAULT_HOLD_MS = 1_000;
/** Most offices remembered per isolate (holds and poll times). */
export const MAX_HELD_OFFICES = 1_024;

// Extends the hold only if the new one ends later; answers the hold now in force (ms left).
const WRITE_HOLD = script(`local left = redis.call("PTTL", KEYS[1])
local want = tonumber(ARGV[1])
if left < want then
  redis.call("SET", KEYS[1], "1", "PX", want)
  return want
end
return left`);

const READ_HOLD = script(`return redis.call("PTTL", KEYS[1])`);

function parseMs(reply: unknown): number | undefined {
  const value = typeof reply === "string" ? Number(reply) : reply;
  // PTTL: -2 no key, -1 no expiry (never written by us): both mean "no hold".
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
  return Math.min(Math.max(0, value), MAX_HOLD_MS);
}

/** Options of {@linkcode UpstreamHolds}. */
export interface UpstreamHoldsOptions {
  /** The shared Redis, for the `shared` mode. */
  redis?: OpsRedis;
  /** Scope of the shared keys: the AQC application (API root and client id). */
  scope: string;
  /** How often an isolate reads an office's shared hold at most; default 1,000 ms. */
  pollMs?: number;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
}

/** Per-office holds after AQC 429s, in this isolate and (optionally) shared. */
export class UpstreamHolds {
  readonly #redis: OpsRedis | undefined;
  readonly #pollMs: number;
  readonly #now: () => number;
  /** Office → epoch ms the hold ends. */
  readonly #until = new Map<string, number>();
  /** Office → epoch ms of its last shared read. */
  readonly #polled = new Map<string, number>();
  readonly #names: (key: string) => Promise<string>;

  /**
   * Creates the holds.
   *
   * @param options Shared Redis, scope, poll interval, clock.
   */
  constructor(options: UpstreamHoldsOptions) {
    this.#redis = options.redis;
    this.#names = opaqueNames(options.scope, "aqc:v2:hold:", MAX_HELD_OFFICES);
    this.#pollMs = options.pollMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Milliseconds the office is still held in this isolate (0: not held). Costs a map lookup.
   *
   * @param officeId The canonical office.
   * @returns Remaining ms.
   */
  remainingMs(officeId: string): number {
    const until = this.#until.get(officeId);
    if (until === undefined) return 0;
    const left = until - this.#now();
    if (left > 0) return left;
    this.#until.delete(officeId);
    return 0;
  }

  /** The offices held now, with ms left (for the status page). */
  held(): Map<string, number> {
    const out = new Map<string, number>();
    for (const officeId of [...this.#until.keys()]) {
      const left = this.remainingMs(officeId);
      if (left > 0) out.set(officeId, left);
    }
    return out;
  }

  /**
   * A read of the shared hold, when one is due for this office; `undefined` when not (no
   * Redis, or read less than `pollMs` ago). Bounded by the Redis timeout.
   *
   * @param officeId The canonical office.
   * @returns The read, which never rejects.
   */
  poll(officeId: string): Promise<void> | undefined {
    const redis = this.#redis;
    if (redis === undefined) return undefined;
    const now = this.#now();
    const last = this.#polled.get(officeId);
    if (last !== undefined && now - last < this.#pollMs) return undefined;
    if (last === undefined && this.#polled.size >= MAX_HELD_OFFICES) this.#polled.clear();
    this.#polled.set(officeId, now);
    return this.#name(officeId).then(async (name) => {
      const read = await redis.run(READ_HOLD, [name], [], parseMs);
      if (read.ok && read.value > 0) this.#hold(officeId, read.value);
    }).catch(() => undefined);
  }

  /**
   * Records an AQC 429 for the office: held locally at once, then shared (the write returns
   * the longest hold in force fleet-wide, adopted here too).
   *
   * @param officeId The canonical office.
   * @param retryAfterSeconds `Retry-After` of the 429, when it had a usable one.
   * @returns The shared write, which never rejects (resolved at once without Redis).
   */
  record(officeId: string, retryAfterSeconds: number | undefined): Promise<void> {
    const ms = Math.min(
      retryAfterSeconds === undefined || retryAfterSeconds <= 0
        ? DEFAULT_HOLD_MS
        : retryAfterSeconds * 1000,
      MAX_HOLD_MS,
    );
    this.#hold(officeId, ms);
    const redis = this.#redis;
    if (redis === undefined) return Promise.resolve();
    return this.#name(officeId).then(async (name) => {
      const written = await redis.run(WRITE_HOLD, [name], [String(Math.ceil(ms))], parseMs);
      if (written.ok && written.value > 0) this.#hold(officeId, written.value);
    }).catch(() => undefined);
  }

  #hold(officeId: string, ms: number): void {
    const until = this.#now() + ms;
    const current = this.#until.get(officeId);
    if (current !== undefined && current >= until) return;
    if (current === undefined && this.#until.size >= MAX_HELD_OFFICES) {
      // Drop the ones that ended; if all still stand, the oldest entry goes.
      for (const officeId of [...this.#until.keys()]) this.remainingMs(officeId);
      if (this.#until.size >= MAX_HELD_OFFICES) {
        this.#until.delete(this.#until.keys().next().value!);
      }
    }
    this.#until.set(officeId, until);
  }

  #name(officeId: string): Promise<string> {
    return this.#names(officeId);
  }
}
