/**
 * The bridge's (and the tests') way to talk to `redis-server`: a thin layer over `ioredis`, the
 * maintained client, that hands replies out in the shapes the bridge needs.
 *
 * - Replies are read as raw bytes (`callBuffer`) and decoded once, per call, as UTF-8 text, as
 *   base64 of the raw bytes, or kept as bytes, so binary values survive.
 * - Integers are read as decimal strings (`stringNumbers`) so that those beyond 2^53 keep every
 *   digit; they come out as `number`, or `bigint` when not safe.
 * - Error replies are values ({@linkcode RespError}), per command, never thrown; a connection
 *   that is refused, closed or silent past the reply timeout is a thrown
 *   {@linkcode RespConnectionError}.
 * - No offline queue and no per-request retries: a call while Redis is down fails at once, and
 *   ioredis reconnects on its own in the background.
 *
 * @example Usage
 * ```ts ignore
 * import { RedisLink } from "./redis.ts";
 *
 * const link = new RedisLink({ port: 6379 });
 * const [set, get] = await link.send([["SET", "k", "v"], ["GET", "k"]], { decoding: "text" });
 * console.log(set, get); // "OK" "v"
 * await link.close();
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Redis } from "ioredis";

/** One argument of a Redis command: text is sent as UTF-8, numbers in decimal, bytes as is. */
export type RespArg = string | number | Uint8Array;

/**
 * One decoded reply: strings (bulk and status) as bytes or text per the decoding, integers as
 * `number` (`bigint` beyond 2^53), nulls as `null`, error replies as {@linkcode RespError}
 * values, arrays as arrays.
 */
export type RespReply =
  | string
  | number
  | bigint
  | null
  | Uint8Array
  | RespError
  | RespReply[];

/** How strings in replies are handed out: raw bytes, UTF-8 text, or base64 of the bytes. */
export type RespDecoding = "bytes" | "text" | "base64";

/** An error reply from Redis (e.g. `ERR …`, `WRONGTYPE …`). Returned as a value, never thrown. */
export class RespError extends Error {
  /**
   * Wraps an error reply.
   *
   * @param message The error line as Redis sent it.
   */
  constructor(message: string) {
    super(message);
    this.name = "RespError";
  }
}

/** Redis could not be reached or did not answer in time; whether the commands ran is unknown. */
export class RespConnectionError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed; never holds credentials.
   */
  constructor(message: string) {
    super(message);
    this.name = "RespConnectionError";
  }
}

/** Where Redis is and how long to wait for it. */
export interface RedisLinkOptions {
  /** Host, default `127.0.0.1`. */
  host?: string;
  /** Port, default 6379. */
  port?: number;
  /** `AUTH` user name. */
  username?: string;
  /** `AUTH` password. */
  password?: string;
  /** Database number for `SELECT`. */
  db?: number;
  /** Upper bound for opening a connection, in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Upper bound for a reply, in ms. Default 10 000. */
  replyTimeoutMs?: number;
}

/**
 * Parses `redis://[[user]:password@]host:port[/db]`.
 *
 * @param url The URL.
 * @returns The connection options.
 * @throws {TypeError} When it is not a redis:// URL.
 */
export function parseRedisUrl(url: string): RedisLinkOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError("The Redis URL is not a valid URL");
  }
  if (parsed.protocol !== "redis:") throw new TypeError("The Redis URL must start with redis://");
  const options: RedisLinkOptions = {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port === "" ? 6379 : Number(parsed.port),
  };
  if (parsed.username !== "") options.username = decodeURIComponent(parsed.username);
  if (parsed.password !== "") options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "") {
    if (!/^\d+$/.test(db)) throw new TypeError("The Redis URL database must be a number");
    options.db = Number(db);
  }
  return options;
}

/** What ioredis hands back from `callBuffer` with `stringNumbers`. */
type RawReply = Buffer | string | null | Error | RawReply[];

interface Pipelined {
  callBuffer(command: string, ...args: (string | Buffer)[]): Pipelined;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** One connection to Redis (ioredis pipelines commands on it). */
export class RedisLink {
  #redis: Redis;
  #closed = false;
  #connectTimeoutMs: number;

  /**
   * Creates the link; it connects on first use and reconnects on its own.
   *
   * @param options Where Redis is and the timeouts.
   */
  constructor(options: RedisLinkOptions = {}) {
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
    this.#redis = new Redis({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 6379,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      db: options.db ?? 0,
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 1_000,
      commandTimeout: options.replyTimeoutMs ?? 10_000,
      // Fail at once while Redis is away instead of queueing: the bridge answers 500.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect quickly and forever: a restarted redis-server is picked up on its own.
      retryStrategy: () => 50,
      stringNumbers: true,
      // Pipelining with callBuffer is done by hand (one pipeline per call), never implicitly.
      enableAutoPipelining: false,
      enableReadyCheck: false,
    });
    // Connection errors surface per call; without a listener ioredis would log each one.
    this.#redis.on("error", () => {});
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw new RespConnectionError("The Redis link is closed");
    const redis = this.#redis;
    if (redis.status === "ready") return;
    if (redis.status === "wait") {
      try {
        await redis.connect();
      } catch {
        throw new RespConnectionError("Unable to connect to Redis");
      }
      return;
    }
    // Between reconnect attempts (Redis restarted, or still down): wait for the outcome of the
    // next attempt, so a restarted server is used at once and a dead one fails fast.
    await new Promise<void>((resolve, reject) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        redis.off("ready", onReady);
        redis.off("close", onClose);
        if (ok) resolve();
        else reject(new RespConnectionError("Unable to connect to Redis"));
      };
      const onReady = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), this.#connectTimeoutMs + 100);
      redis.on("ready", onReady);
      redis.on("close", onClose);
    });
  }

  /**
   * Sends commands back to back on the connection and returns one reply per command.
   *
   * @param commands The commands.
   * @param options How strings are decoded (default bytes).
   * @returns One reply per command, error replies as values.
   * @throws {RespConnectionError} When Redis cannot be reached or does not answer in time.
   */
  async send(
    commands: readonly (readonly RespArg[])[],
    options: { decoding?: RespDecoding } = {},
  ): Promise<RespReply[]> {
    if (commands.length === 0) return [];
    await this.#ready();
    const pipeline = this.#redis.pipeline() as unknown as Pipelined;
    for (const [name, ...args] of commands) pipeline.callBuffer(String(name), ...args.map(toArg));
    const results = await this.#exec(pipeline);
    const decoding = options.decoding ?? "bytes";
    return results.map(([error, reply]) =>
      error !== null ? toError(error) : convert(reply as RawReply, decoding)
    );
  }

  /**
   * Runs commands in `MULTI`/`EXEC` on the connection.
   *
   * @param commands The queued commands.
   * @param options How strings are decoded.
   * @returns The replies, or a {@linkcode RespError} when Redis discards the transaction.
   * @throws {RespConnectionError} When Redis cannot be reached or does not answer in time.
   */
  async transaction(
    commands: readonly (readonly RespArg[])[],
    options: { decoding?: RespDecoding } = {},
  ): Promise<RespReply[] | RespError> {
    await this.#ready();
    const multi = this.#redis.multi() as unknown as Pipelined;
    for (const [name, ...args] of commands) multi.callBuffer(String(name), ...args.map(toArg));
    let results: [Error | null, unknown][];
    try {
      results = await this.#exec(multi);
    } catch (error) {
      if (error instanceof RespConnectionError) throw error;
      return toError(error);
    }
    const decoding = options.decoding ?? "bytes";
    return results.map(([error, reply]) =>
      error !== null ? toError(error) : convert(reply as RawReply, decoding)
    );
  }

  async #exec(pipeline: Pipelined): Promise<[Error | null, unknown][]> {
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      if (isReplyError(error)) throw error;
      throw new RespConnectionError("Redis did not answer");
    }
    if (results === null) throw new RespConnectionError("Redis did not answer");
    // A timeout or a dropped connection is reported per command, not as a reply.
    for (const [error] of results) {
      if (error !== null && !isReplyError(error)) {
        throw new RespConnectionError("Redis did not answer");
      }
    }
    return results;
  }

  /**
   * One command.
   *
   * @param args The command and its arguments.
   * @param options How strings are decoded.
   * @returns Its reply.
   */
  async command(
    args: readonly RespArg[],
    options: { decoding?: RespDecoding } = {},
  ): Promise<RespReply> {
    const [reply] = await this.send([args], options);
    return reply;
  }

  /** Closes the connection; later calls fail with {@linkcode RespConnectionError}. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const redis = this.#redis;
    // Only an open socket emits "end" once closed; between reconnect attempts there is none,
    // and disconnect() just cancels the pending attempt.
    const open = redis.status === "connect" || redis.status === "connecting" ||
      redis.status === "ready";
    const closed = open
      ? new Promise<void>((resolve) => redis.once("end", () => resolve()))
      : Promise.resolve();
    redis.disconnect(false);
    return closed;
  }
}

function isReplyError(error: unknown): boolean {
  return error instanceof Error && (error.name === "ReplyError" || error.name === "SimpleError" ||
    error.constructor.name === "SimpleError" || error.constructor.name === "ReplyError");
}

function toArg(arg: RespArg): string | Buffer {
  if (typeof arg === "string") return arg;
  if (typeof arg === "number") return String(arg);
  return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
}

function toError(error: unknown): RespError {
  return new RespError(error instanceof Error ? error.message : String(error));
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

function convert(reply: RawReply, decoding: RespDecoding): RespReply {
  if (reply === null) return null;
  if (typeof reply === "string") {
    // Integers, as decimal text (stringNumbers).
    const value = Number(reply);
    return Number.isSafeInteger(value) ? value : BigInt(reply);
  }
  if (reply instanceof Uint8Array) {
    if (decoding === "text") return utf8.decode(reply);
    if (decoding === "base64") return reply.toBase64();
    return new Uint8Array(reply);
  }
  if (Array.isArray(reply)) return reply.map((item) => convert(item, decoding));
  return toError(reply);
}
