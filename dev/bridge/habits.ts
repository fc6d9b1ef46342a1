/**
 * Production's habits for the local bridge, as knobs tests can turn: what a real Upstash
 * database does that one local `redis-server` never does.
 *
 * | knob | what it does |
 * | --- | --- |
 * | `latencyMs: [min, max]` | every command request waits a uniform random time in the range first |
 * | `replicaLagMs` (needs a replica connection) | read-only commands (`GET`, `MGET`, `EVAL_RO` …, as Redis flags them) are served by a second `redis-server` that receives every write `replicaLagMs` late; `EVAL`, `SET` and other writes go to the primary, as on Upstash |
 * | `syncTokens` (default on) | every answer carries `upstash-sync-token` (the primary's write sequence); a read sent with a token the replica has not reached is served by the primary, i.e. read-your-writes for one client, as Upstash documents |
 * | `fault: "quota"` | every command answers 400 `ERR max requests limit exceeded …` |
 * | `fault: "noperm"` | every write answers 400 `NOPERM …` (a read-only token); reads still work |
 * | `fault: "html502"` | every command answers 502 with an HTML page (a proxy in front of Upstash) |
 * | `faultRate` | the share of command requests (0–1, default 1) the fault applies to |
 *
 * @module
 */

import { type RedisLink, type RespArg, RespConnectionError, RespError } from "./redis.ts";

/** An Upstash-only failure the bridge can answer with. */
export type BridgeFault = "quota" | "noperm" | "html502";

/** The knobs; every field optional, absent means "like one local redis-server". */
export interface BridgeHabits {
  /** Per-request latency, uniform in `[min, max]` ms. */
  latencyMs?: readonly [number, number];
  /** Delay before a write reaches the replica, in ms (needs `replica` in the bridge options). */
  replicaLagMs?: number;
  /** Whether to send and honour `upstash-sync-token` (default true). */
  syncTokens?: boolean;
  /** An injected Upstash error. */
  fault?: BridgeFault | null;
  /** Share of requests the fault hits, 0–1 (default 1). */
  faultRate?: number;
}

/** What the bridge has seen since it started (or since `resetStats`). */
export interface BridgeStats {
  /** Command requests (`/`, `/pipeline`, `/multi-exec`, path form), faulted ones included. */
  requests: number;
  /** Requests served by the replica. */
  replicaReads: number;
  /** Requests answered with an injected fault. */
  faults: number;
}

/** The answer of an injected fault. */
export interface FaultAnswer {
  status: number;
  contentType: string;
  body: string;
}

type Command = readonly RespArg[];

/**
 * Checks a habits object from a caller (tests, the control endpoint), so a typo is an error
 * rather than a silently ignored knob.
 *
 * @param value The candidate.
 * @returns The habits.
 * @throws {TypeError} When a field is unknown or out of range.
 */
export function parseHabits(value: unknown): BridgeHabits {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("Habits must be an object");
  }
  const known = new Set(["latencyMs", "replicaLagMs", "syncTokens", "fault", "faultRate"]);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new TypeError(`Unknown habit ${key}`);
  }
  const v = value as Record<string, unknown>;
  const habits: BridgeHabits = {};
  if (v.latencyMs !== undefined) {
    const l = v.latencyMs;
    if (
      !Array.isArray(l) || l.length !== 2 || !l.every((n) => typeof n === "number" && n >= 0) ||
      l[0] > l[1]
    ) {
      throw new TypeError("latencyMs must be [min, max] with 0 <= min <= max");
    }
    habits.latencyMs = [l[0], l[1]];
  }
  if (v.replicaLagMs !== undefined) {
    if (typeof v.replicaLagMs !== "number" || !(v.replicaLagMs >= 0)) {
      throw new TypeError("replicaLagMs must be a number >= 0");
    }
    habits.replicaLagMs = v.replicaLagMs;
  }
  if (v.syncTokens !== undefined) {
    if (typeof v.syncTokens !== "boolean") throw new TypeError("syncTokens must be a boolean");
    habits.syncTokens = v.syncTokens;
  }
  if (v.fault !== undefined && v.fault !== null) {
    if (v.fault !== "quota" && v.fault !== "noperm" && v.fault !== "html502") {
      throw new TypeError("fault must be quota, noperm, html502 or null");
    }
    habits.fault = v.fault;
  }
  if (v.faultRate !== undefined) {
    if (typeof v.faultRate !== "number" || !(v.faultRate >= 0 && v.faultRate <= 1)) {
      throw new TypeError("faultRate must be between 0 and 1");
    }
    habits.faultRate = v.faultRate;
  }
  return habits;
}

interface Pending {
  due: number;
  seq: number;
  commands: Command[];
}

/**
 * The replica and the habits' state: which commands are reads, the write sequence, the
 * delayed copy of written keys to the replica.
 */
export class Habits {
  #habits: BridgeHabits = {};
  #primary: RedisLink;
  #replica: RedisLink | undefined;
  #readonly = new Map<string, boolean>();
  #writeSeq = 0;
  #replicaSeq = 0;
  #queue: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly stats: BridgeStats = { requests: 0, replicaReads: 0, faults: 0 };

  constructor(primary: RedisLink, replica: RedisLink | undefined, habits: BridgeHabits = {}) {
    this.#primary = primary;
    this.#replica = replica;
    this.set(habits);
  }

  /** Replaces every knob. */
  set(habits: BridgeHabits): void {
    const parsed = parseHabits(habits);
    if (parsed.replicaLagMs !== undefined && this.#replica === undefined) {
      throw new TypeError("replicaLagMs needs a replica connection");
    }
    this.#habits = parsed;
  }

  /** The knobs in force. */
  get(): BridgeHabits {
    return { ...this.#habits };
  }

  /** Waits the configured latency. */
  async latency(): Promise<void> {
    const range = this.#habits.latencyMs;
    if (range === undefined) return;
    const ms = range[0] + Math.random() * (range[1] - range[0]);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** The sync token to send back, or `undefined` when sync tokens are off. */
  syncToken(): string | undefined {
    return this.#habits.syncTokens === false ? undefined : String(this.#writeSeq);
  }

  /**
   * Decides whether an injected fault answers this request instead of Redis.
   *
   * @param commands The request's commands.
   * @returns The fault's answer, or `undefined`.
   */
  async fault(commands: readonly Command[]): Promise<FaultAnswer | undefined> {
    const fault = this.#habits.fault;
    if (fault === undefined || fault === null) return undefined;
    if (Math.random() >= (this.#habits.faultRate ?? 1)) return undefined;
    let answer: FaultAnswer | undefined;
    if (fault === "quota") {
      answer = jsonFault(
        400,
        "ERR max requests limit exceeded. Limit: 10000, Usage: 10000. See the Upstash docs on max_requests_limit",
      );
    } else if (fault === "html502") {
      answer = {
        status: 502,
        contentType: "text/html",
        body: "<html><head><title>502 Bad Gateway</title></head><body>" +
          "<center><h1>502 Bad Gateway</h1></center></body></html>",
      };
    } else {
      for (const command of commands) {
        if (!(await this.isReadonly(command))) {
          const name = String(command[0]).toLowerCase();
          answer = jsonFault(
            400,
            `NOPERM this user has no permissions to run the '${name}' command`,
          );
          break;
        }
      }
    }
    if (answer !== undefined) this.stats.faults++;
    return answer;
  }

  /** Whether Redis flags the command `readonly` (cached per command name). */
  async isReadonly(command: Command): Promise<boolean> {
    const name = String(command[0]).toLowerCase();
    const known = this.#readonly.get(name);
    if (known !== undefined) return known;
    const reply = await this.#primary.command(["COMMAND", "INFO", name], { decoding: "text" });
    const info = Array.isArray(reply) ? reply[0] : null;
    const flags = Array.isArray(info) && Array.isArray(info[2]) ? info[2] : [];
    const readonly = flags.includes("readonly");
    this.#readonly.set(name, readonly);
    return readonly;
  }

  /**
   * Picks the connection for a request: the replica for reads in replica-lag mode, unless the
   * caller's sync token is ahead of it.
   *
   * @param commands The request's commands.
   * @param syncToken The request's `upstash-sync-token`.
   * @returns The link, and whether the request writes (so its keys must be copied later).
   */
  async route(
    commands: readonly Command[],
    syncToken: string | null,
  ): Promise<{ link: RedisLink; writes: Command[] }> {
    const writes: Command[] = [];
    for (const command of commands) {
      if (!(await this.isReadonly(command))) writes.push(command);
    }
    const replica = this.#replica;
    if (replica === undefined || this.#habits.replicaLagMs === undefined || writes.length > 0) {
      return { link: this.#primary, writes };
    }
    const wanted = this.#habits.syncTokens === false ? 0 : Number(syncToken ?? 0);
    // Upstash makes the replica catch up with the token first; answering from the primary
    // gives the same result.
    if (Number.isFinite(wanted) && wanted > this.#replicaSeq) {
      return { link: this.#primary, writes };
    }
    this.stats.replicaReads++;
    return { link: replica, writes };
  }

  /**
   * After a write: counts it, and in replica-lag mode snapshots the keys it touched on the
   * primary and copies them to the replica `replicaLagMs` later.
   *
   * @param writes The write commands just run on the primary.
   */
  async afterWrite(writes: readonly Command[]): Promise<void> {
    if (writes.length === 0) return;
    const seq = ++this.#writeSeq;
    if (this.#replica === undefined) {
      this.#replicaSeq = seq;
      return;
    }
    const keys = new Set<string>();
    const found = await this.#primary.send(
      writes.map((command) => ["COMMAND", "GETKEYS", ...command]),
      { decoding: "text" },
    );
    for (const reply of found) {
      if (Array.isArray(reply)) {
        for (const key of reply) if (typeof key === "string") keys.add(key);
      }
    }
    const list = [...keys];
    const snapshot = await this.#primary.send(
      list.flatMap((key) => [["DUMP", key], ["PTTL", key]]),
    );
    const now = Date.now();
    const commands: Command[] = [];
    list.forEach((key, i) => {
      const dump = snapshot[2 * i];
      const ttl = Number(snapshot[2 * i + 1]);
      if (dump instanceof Uint8Array) {
        commands.push(["RESTORE", key, ttl > 0 ? now + ttl : 0, dump, "REPLACE", "ABSTTL"]);
      } else {
        commands.push(["DEL", key]);
      }
    });
    this.#queue.push({ due: now + (this.#habits.replicaLagMs ?? 0), seq, commands });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const next = this.#queue[0];
    if (next === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#drain();
    }, Math.max(0, next.due - Date.now()));
  }

  async #drain(): Promise<void> {
    const replica = this.#replica;
    while (replica !== undefined && this.#queue.length > 0 && this.#queue[0].due <= Date.now()) {
      const item = this.#queue.shift()!;
      try {
        if (item.commands.length > 0) await replica.send(item.commands);
      } catch (error) {
        // A replica that cannot be written just stays behind, as a broken one would.
        if (!(error instanceof RespConnectionError || error instanceof RespError)) throw error;
      }
      this.#replicaSeq = Math.max(this.#replicaSeq, item.seq);
    }
    this.#schedule();
  }

  /** Stops copying to the replica (pending copies are dropped). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }
}

function jsonFault(status: number, error: string): FaultAnswer {
  return { status, contentType: "application/json", body: JSON.stringify({ error }) };
}
