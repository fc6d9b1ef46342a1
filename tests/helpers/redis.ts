/**
 * Test helpers: a throwaway `redis-server`, the local Upstash bridge served in-process, and raw
 * access to Redis that bypasses every store (for security assertions on what is really stored).
 *
 * All helpers release everything they start (processes, sockets, timers), so tests pass Deno's
 * sanitizers as long as each started server is stopped (or disposed with `await using`).
 *
 * @example A local Upstash for one test
 * ```ts
 * import { Redis } from "@upstash/redis";
 * import { startUpstash } from "./redis.ts";
 *
 * Deno.test("store", async () => {
 *   await using upstash = await startUpstash();
 *   const redis = new Redis({ url: upstash.url, token: upstash.token, enableTelemetry: false });
 *   await redis.set("k", "v");
 *   await upstash.redis.stop(); // Redis down: the bridge answers 500
 *   await upstash.redis.start(); // back on the same port
 * });
 * ```
 *
 * @module
 */

import {
  type Bridge,
  type BridgeHabits,
  type BridgeStats,
  createBridge,
} from "../../dev/bridge/handler.ts";
import { RedisLink, type RespArg, RespError, type RespReply } from "../../dev/bridge/redis.ts";

export { RespError };
export type { RespArg, RespReply };

/** A `redis-server` child process on a loopback port that survives stop/start cycles. */
export interface RedisServer {
  /** The TCP port, the same across {@linkcode RedisServer.stop} / {@linkcode RedisServer.start}. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Whether the process is running (paused counts as running). */
  readonly running: boolean;
  /** Whether the process is paused by {@linkcode RedisServer.pause}. */
  readonly paused: boolean;
  /** Terminates the process (SIGTERM) and waits for it to exit. Idempotent. The data is lost. */
  stop(): Promise<void>;
  /** Starts a fresh, empty server on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** {@linkcode RedisServer.stop} then {@linkcode RedisServer.start}. */
  restart(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP): connections still open (the kernel accepts them) but nothing
   * is answered, which is how a hung or overloaded Redis looks to a client.
   */
  pause(): Promise<void>;
  /** Resumes a paused process (SIGCONT); queued commands are then answered. */
  resume(): Promise<void>;
  /** Deletes every key (`FLUSHALL`). */
  flushAll(): Promise<void>;
  /** Same as {@linkcode RedisServer.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@linkcode startRedis}. */
export interface StartRedisOptions {
  /** A fixed port; by default a free loopback port is picked. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `["--requirepass", "secret"]`. */
  args?: string[];
  /** The executable. Defaults to `$REDIS_SERVER` or `redis-server`. */
  executable?: string;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Starts `redis-server --port <free> --bind 127.0.0.1 --save "" --appendonly no` and waits until
 * it answers PING.
 *
 * @example Usage
 * ```ts
 * import { startRedis } from "./redis.ts";
 *
 * const redis = await startRedis();
 * try {
 *   console.log(redis.url); // redis://127.0.0.1:40123
 * } finally {
 *   await redis.stop();
 * }
 * ```
 *
 * @param options A fixed port or extra arguments.
 * @returns The running server.
 * @throws {Error} When redis-server cannot be started.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const executable = options.executable ?? Deno.env.get("REDIS_SERVER") ?? "redis-server";
  const extra = options.args ?? [];
  let lastError: unknown;
  // A port found free can be taken before redis-server binds it: pick another and retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? freePort();
    const server = new RedisProcess(executable, port, extra);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      await server.stop();
      if (options.port !== undefined || !(error instanceof PortInUse)) break;
    }
  }
  throw lastError;
}

class PortInUse extends Error {}

class RedisProcess implements RedisServer {
  readonly port: number;
  readonly url: string;
  #executable: string;
  #args: string[];
  #child: Deno.ChildProcess | null = null;
  #output: Promise<string> | null = null;
  #paused = false;

  constructor(executable: string, port: number, extra: string[]) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#executable = executable;
    // deno-fmt-ignore
    this.#args = [
      "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--daemonize", "no", "--loglevel", "warning", ...extra,
    ];
  }

  get running(): boolean {
    return this.#child !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  async start(): Promise<void> {
    if (this.#child !== null) return;
    const child = new Deno.Command(this.#executable, {
      args: this.#args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#output = collect(child);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exited = false;
    const exit = child.status.then(() => {
      exited = true;
    });
    while (!exited) {
      if (await ping(this.port)) return;
      if (Date.now() > deadline) {
        throw new Error(`redis-server on port ${this.port} did not answer PING`);
      }
      await Promise.race([exit, delay(15)]);
    }
    const log = await this.#output;
    this.#child = null;
    this.#output = null;
    if (/address already in use/i.test(log)) throw new PortInUse(`port ${this.port} is taken`);
    throw new Error(`redis-server exited on start: ${log.trim().slice(-500)}`);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    this.#child = null;
    try {
      // A stopped process only acts on SIGTERM once continued.
      if (this.#paused) child.kill("SIGCONT");
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    this.#paused = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already exited.
        }
        resolve();
      }, 5_000);
    });
    await Promise.race([child.status, killed]);
    clearTimeout(timer);
    await child.status;
    await this.#output;
    this.#output = null;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  pause(): Promise<void> {
    if (this.#child !== null && !this.#paused) {
      this.#child.kill("SIGSTOP");
      this.#paused = true;
    }
    return Promise.resolve();
  }

  resume(): Promise<void> {
    if (this.#child !== null && this.#paused) {
      this.#child.kill("SIGCONT");
      this.#paused = false;
    }
    return Promise.resolve();
  }

  async flushAll(): Promise<void> {
    const reply = await redisCommand(this.port, ["FLUSHALL"]);
    if (reply instanceof RespError) throw reply;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Reads stdout and stderr to the end (so no resource leaks), keeping the last few KiB. */
async function collect(child: Deno.ChildProcess): Promise<string> {
  const tail = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of stream) text = (text + decoder.decode(chunk)).slice(-4096);
    return text;
  };
  const [out, err] = await Promise.all([tail(child.stdout), tail(child.stderr)]);
  return out + err;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function ping(port: number): Promise<boolean> {
  const client = new RedisLink({ port, connectTimeoutMs: 500, replyTimeoutMs: 1000 });
  try {
    // While loading, Redis answers -LOADING: only +PONG (or -NOAUTH with --requirepass) means
    // ready.
    const reply = await client.command(["PING"], { decoding: "text" });
    return reply === "PONG" || (reply instanceof RespError && reply.message.startsWith("NOAUTH"));
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

/** The bridge served in-process on a loopback port that survives stop/start cycles. */
export interface BridgeServer {
  /** `http://127.0.0.1:<port>`, the `url` for `new Redis({ url, token })`. */
  readonly url: string;
  /** The bearer token, the `token` for `new Redis({ url, token })`. */
  readonly token: string;
  /** The Redis the bridge talks to. */
  readonly redisUrl: string;
  /** Whether the HTTP server is running. */
  readonly running: boolean;
  /** Stops serving (connection refused) and closes the Redis connections. Idempotent. */
  stop(): Promise<void>;
  /** Serves again on the same port. */
  start(): Promise<void>;
  /** Replaces the production habits (latency, replica lag, faults, sync tokens). */
  setHabits(habits: BridgeHabits): void;
  /** Requests seen since the bridge was (re)started. */
  stats(): BridgeStats;
  /** Same as {@linkcode BridgeServer.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@linkcode startBridge}. */
export interface StartBridgeOptions {
  /** The Redis server, e.g. {@linkcode RedisServer.url}. */
  redisUrl: string;
  /** The bearer token. Defaults to a random one. */
  token?: string;
  /** Redis reply timeout of the bridge, in ms (500 after it). Defaults to 10 000. */
  replyTimeoutMs?: number;
  /** Redis connect timeout of the bridge, in ms. Defaults to 1000. */
  connectTimeoutMs?: number;
  /** A second Redis playing Upstash's read replica (for the `replicaLagMs` habit). */
  replicaUrl?: string;
  /** Production habits to start with (see dev/bridge/habits.ts). */
  habits?: BridgeHabits;
}

/**
 * Serves the local Upstash bridge with `Deno.serve` on `127.0.0.1`, on a free port.
 *
 * @example Usage
 * ```ts
 * import { startBridge, startRedis } from "./redis.ts";
 *
 * await using redis = await startRedis();
 * await using bridge = await startBridge({ redisUrl: redis.url });
 * console.log(bridge.url, bridge.token);
 * ```
 *
 * @param options The Redis URL, the token and timeouts.
 * @returns The running bridge.
 */
export async function startBridge(options: StartBridgeOptions): Promise<BridgeServer> {
  const server = new BridgeProcess(options);
  await server.start();
  return server;
}

class BridgeProcess implements BridgeServer {
  readonly token: string;
  readonly redisUrl: string;
  #options: StartBridgeOptions;
  #port = 0;
  #server: Deno.HttpServer | null = null;
  #bridge: Bridge | null = null;
  #habits: BridgeHabits;

  constructor(options: StartBridgeOptions) {
    this.#options = options;
    this.#habits = options.habits ?? {};
    this.redisUrl = options.redisUrl;
    this.token = options.token ?? randomToken();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#server !== null;
  }

  start(): Promise<void> {
    if (this.#server !== null) return Promise.resolve();
    const o = this.#options;
    const bridge = createBridge({
      token: this.token,
      connection: this.redisUrl,
      ...(o.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: o.replyTimeoutMs }),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
      ...(o.replicaUrl === undefined ? {} : { replica: o.replicaUrl }),
      habits: this.#habits,
    });
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: this.#port,
      onListen() {},
    }, bridge.fetch);
    this.#port = server.addr.port;
    this.#server = server;
    this.#bridge = bridge;
    return Promise.resolve();
  }

  setHabits(habits: BridgeHabits): void {
    this.#bridge?.setHabits(habits);
    this.#habits = habits;
  }

  stats(): BridgeStats {
    return this.#bridge?.stats() ?? { requests: 0, replicaReads: 0, faults: 0 };
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const bridge = this.#bridge;
    if (server === null || bridge === null) return;
    this.#server = null;
    this.#bridge = null;
    const drained = server.shutdown();
    // Shutdown waits for in-flight requests: closing Redis fails the ones stuck on a paused
    // server instead of waiting for it.
    await bridge.close();
    await drained;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function randomToken(): string {
  return crypto.getRandomValues(new Uint8Array(24)).toBase64({ alphabet: "base64url" });
}

/** A Redis server plus a bridge in front of it: everything a test needs for a local Upstash. */
export interface LocalUpstash {
  /** The bridge URL, for `new Redis({ url, token })`. */
  readonly url: string;
  /** The bridge token, for `new Redis({ url, token })`. */
  readonly token: string;
  /** The Redis server (stop, start, pause, resume, raw access by port). */
  readonly redis: RedisServer;
  /** The replica Redis, when started with `replica: true` (reads lag behind by the habit). */
  readonly replica?: RedisServer;
  /** The bridge (stop, start). */
  readonly bridge: BridgeServer;
  /** Stops the bridge, then Redis. */
  stop(): Promise<void>;
  /** Same as {@linkcode LocalUpstash.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a Redis server and a bridge in front of it.
 *
 * @example Usage
 * ```ts
 * import { startUpstash } from "./redis.ts";
 *
 * await using upstash = await startUpstash();
 * console.log(upstash.url, upstash.token, upstash.redis.port);
 * ```
 *
 * @param options Bridge options (token, timeouts, habits); `replica: true` also starts a second
 *   redis-server that serves reads in the `replicaLagMs` habit.
 * @returns Both servers.
 */
export async function startUpstash(
  options: Omit<StartBridgeOptions, "redisUrl" | "replicaUrl"> & { replica?: boolean } = {},
): Promise<LocalUpstash> {
  const { replica: withReplica, ...bridgeOptions } = options;
  const redis = await startRedis();
  let replica: RedisServer | undefined;
  let bridge: BridgeServer;
  try {
    if (withReplica === true) replica = await startRedis();
    bridge = await startBridge({
      ...bridgeOptions,
      redisUrl: redis.url,
      ...(replica === undefined ? {} : { replicaUrl: replica.url }),
    });
  } catch (error) {
    await replica?.stop();
    await redis.stop();
    throw error;
  }
  const stop = async () => {
    await bridge.stop();
    await replica?.stop();
    await redis.stop();
  };
  return {
    url: bridge.url,
    token: bridge.token,
    redis,
    ...(replica === undefined ? {} : { replica }),
    bridge,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Sends one command straight to Redis on a short-lived connection.
 *
 * @example Usage
 * ```ts
 * import { redisCommand } from "./redis.ts";
 *
 * const ttl = await redisCommand(6379, ["PTTL", "aqc:v1:lease:abc"]);
 * console.log(ttl); // e.g. 4873
 * ```
 *
 * @param port The Redis port on 127.0.0.1.
 * @param args The command and its arguments.
 * @returns The reply; strings (bulk and status) as bytes, error replies as
 *   {@linkcode RespError} values.
 */
export async function redisCommand(port: number, args: readonly RespArg[]): Promise<RespReply> {
  const client = new RedisLink({ port });
  try {
    return await client.command(args);
  } finally {
    await client.close();
  }
}

/** One key as stored in Redis, read by {@linkcode rawScan}. */
export interface RawEntry {
  /** The key, decoded as UTF-8. */
  key: string;
  /** The Redis type: `string`, `hash`, `list`, `set`, `zset`, `stream`. */
  type: string;
  /**
   * For strings, the exact stored bytes. For other types, a JSON text of the members (hash:
   * object; list, set: array; zset: array of [member, score]; stream: the XRANGE reply), each
   * member decoded as UTF-8.
   */
  value: Uint8Array | string;
  /** The value (strings) or the JSON text (other types) decoded as UTF-8, for searching. */
  text: string;
  /** Remaining time to live in ms; -1 when the key has no expiry. */
  ttlMs: number;
}

/**
 * Reads every key, value and TTL straight from Redis (SCAN, not through any store), sorted by key.
 *
 * @example Assert that nothing secret is stored in clear
 * ```ts
 * import { rawScan } from "./redis.ts";
 *
 * for (const entry of await rawScan(6379)) {
 *   if (entry.key.includes("NCE1A0955") || entry.text.includes("client-secret")) {
 *     throw new Error(`leak in ${entry.key}`);
 *   }
 * }
 * ```
 *
 * @param port The Redis port on 127.0.0.1.
 * @param options `match`: a SCAN pattern such as `"aqc:v1:*"`.
 * @returns Every key with its type, value and TTL.
 */
export async function rawScan(
  port: number,
  options: { match?: string } = {},
): Promise<RawEntry[]> {
  const client = new RedisLink({ port });
  try {
    const keys: Uint8Array[] = [];
    let cursor = "0";
    do {
      const [reply] = await client.send([
        ["SCAN", cursor, "MATCH", options.match ?? "*", "COUNT", 1000],
      ]);
      const [next, batch] = expectArray(reply) as [Uint8Array, Uint8Array[]];
      cursor = decode(next);
      keys.push(...batch);
    } while (cursor !== "0");
    if (keys.length === 0) return [];
    const meta = await client.send(keys.flatMap((key) => [["TYPE", key], ["PTTL", key]]), {
      decoding: "text",
    });
    const types = keys.map((_, i) => String(meta[2 * i]));
    const values = await client.send(keys.map((key, i) => readCommand(types[i], key)));
    const entries: RawEntry[] = [];
    for (let i = 0; i < keys.length; i++) {
      const type = types[i];
      // "none": the key expired or was deleted between SCAN and TYPE.
      if (type === "none") continue;
      const reply = values[i];
      const value = type === "string" && reply instanceof Uint8Array
        ? reply
        : JSON.stringify(toPlain(type, reply));
      entries.push({
        key: decode(keys[i]),
        type,
        value,
        text: typeof value === "string" ? value : decode(value),
        ttlMs: Number(meta[2 * i + 1]),
      });
    }
    return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  } finally {
    await client.close();
  }
}

function readCommand(type: string, key: Uint8Array): RespArg[] {
  switch (type) {
    case "string":
      return ["GET", key];
    case "hash":
      return ["HGETALL", key];
    case "list":
      return ["LRANGE", key, 0, -1];
    case "set":
      return ["SMEMBERS", key];
    case "zset":
      return ["ZRANGE", key, 0, -1, "WITHSCORES"];
    case "stream":
      return ["XRANGE", key, "-", "+"];
    default:
      return ["DUMP", key];
  }
}

type Plain = string | number | null | Plain[] | { [key: string]: Plain };

function toPlain(type: string, reply: RespReply): Plain {
  const plain = plainOf(reply);
  if (!Array.isArray(plain)) return plain;
  if (type === "hash") {
    const object: Record<string, Plain> = {};
    for (let i = 0; i + 1 < plain.length; i += 2) object[String(plain[i])] = plain[i + 1];
    return object;
  }
  if (type === "zset") {
    const pairs: Plain[] = [];
    for (let i = 0; i + 1 < plain.length; i += 2) pairs.push([plain[i], Number(plain[i + 1])]);
    return pairs;
  }
  return plain;
}

function plainOf(reply: RespReply): Plain {
  if (reply instanceof Uint8Array) return decode(reply);
  if (reply instanceof RespError) return `error: ${reply.message}`;
  if (Array.isArray(reply)) return reply.map(plainOf);
  if (typeof reply === "bigint") return reply.toString();
  return reply;
}

function expectArray(reply: RespReply): RespReply[] {
  if (!Array.isArray(reply)) throw new Error(`Unexpected Redis reply: ${String(reply)}`);
  return reply;
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

function decode(bytes: RespReply): string {
  return bytes instanceof Uint8Array ? utf8.decode(bytes) : String(bytes);
}
