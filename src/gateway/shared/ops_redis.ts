/**
 * The Redis the gateway's fleet-wide guards (rate limits, upstream 429 holds) share: one
 * `EVAL` per call, bounded by a timeout, and a short pause after a failure so a Redis that
 * is down costs one timeout per pause, not one per request.
 *
 * @module
 */
import { encodeBase64Url, sha256 } from "../../token/key.ts";

/** The part of an Upstash client the guards use (EVAL runs on the primary). */
export interface OpsRedisClient {
  /** `EVAL script numkeys keys… args…`. */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
}

/** Why a shared call gave no answer: the guard then decides locally. */
export type OpsRedisOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Options of {@linkcode OpsRedis}. */
export interface OpsRedisOptions {
  /** Upper bound of one call in ms; a slower Redis is treated as down. */
  timeoutMs: number;
  /** How long after a failure no call is tried (ms); default 5,000. */
  pauseMs?: number;
  /** Monotonic-enough clock in ms; default `Date.now`. */
  now?: () => number;
}

// Upstash runs a script under a global lock unless it declares that it touches only its
// KEYS; every script here does (the dev bridge strips the flag for redis-server).
const SHEBANG = "#!lua flags=allow-key-locking\n";

/**
 * A script with the key-locking flag, so callers write only the Lua.
 *
 * @param lua The script body.
 * @returns The script to `EVAL`.
 */
export function script(lua: string): string {
  return `${SHEBANG}${lua}`;
}

/** Runs guard scripts on Upstash, never throwing and never waiting past its timeout. */
export class OpsRedis {
  readonly #client: OpsRedisClient;
  readonly #timeoutMs: number;
  readonly #pauseMs: number;
  readonly #now: () => number;
  #pausedUntil = 0;
  #failures = 0;

  /**
   * Wraps a client.
   *
   * @param client The gateway's Upstash client, an `@upstash/redis` one, or anything with `eval`.
   * @param options Timeout and pause after a failure.
   */
  constructor(client: OpsRedisClient, options: OpsRedisOptions) {
    this.#client = client;
    this.#timeoutMs = options.timeoutMs;
    this.#pauseMs = options.pauseMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  /** Failures since start (for the status page and metrics). */
  get failures(): number {
    return this.#failures;
  }

  /** Whether calls are paused after a failure. */
  get paused(): boolean {
    return this.#now() < this.#pausedUntil;
  }

  /**
   * Runs a script; any failure, timeout or paused state is `{ ok: false }`.
   *
   * @param lua The script (already with {@linkcode script}).
   * @param keys Its KEYS.
   * @param args Its ARGV.
   * @param parse Checks the reply's shape; a wrong shape is a failure.
   * @returns The parsed reply, or why there is none.
   */
  async run<T>(
    lua: string,
    keys: string[],
    args: string[],
    parse: (reply: unknown) => T | undefined,
  ): Promise<OpsRedisOutcome<T>> {
    if (this.paused) return { ok: false, reason: "paused" };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    try {
      const call = this.#client.eval(lua, keys, args);
      // A late rejection after the timeout must not surface as unhandled.
      call.catch(() => undefined);
      const reply = await Promise.race([call, timeout]);
      if (reply === "timeout") return this.#failed("timeout");
      const value = parse(reply);
      return value === undefined ? this.#failed("bad_answer") : { ok: true, value };
    } catch {
      return this.#failed("error");
    } finally {
      clearTimeout(timer);
    }
  }

  #failed(reason: string): { ok: false; reason: string } {
    this.#failures++;
    this.#pausedUntil = this.#now() + this.#pauseMs;
    return { ok: false, reason };
  }
}

/**
 * A short, stable, opaque name for a string (base64url of the first 12 bytes of its SHA-256),
 * so Redis keys name neither the client id nor the office in clear.
 *
 * @param value What to name.
 * @returns 16 base64url characters.
 */
export async function opaqueName(value: string): Promise<string> {
  // The project's own helpers: `Uint8Array.prototype.toBase64` is missing on Node 20 and Bun.
  return encodeBase64Url((await sha256(value)).slice(0, 12));
}

/**
 * Names for Redis keys under `prefix`, made once per key and kept (at most `max`, then the
 * cache starts over), so a warm request hashes nothing.
 *
 * @param scope What every name is scoped to (the AQC application).
 * @param prefix The key prefix, e.g. `aqc:v2:rl:`.
 * @param max Most names kept.
 * @returns The name of a key, e.g. an office id.
 */
export function opaqueNames(
  scope: string,
  prefix: string,
  max: number,
): (key: string) => Promise<string> {
  const names = new Map<string, Promise<string>>();
  return (key) => {
    let name = names.get(key);
    if (name === undefined) {
      if (names.size >= max) names.clear();
      name = opaqueName(`${scope}\n${key}`).then((n) => `${prefix}${n}`);
      names.set(key, name);
    }
    return name;
  };
}
