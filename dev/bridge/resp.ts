/**
 * A small RESP2 client for `redis-server` over TCP, built for the local Upstash bridge and for
 * tests that must read Redis directly.
 *
 * - Persistent connections with pipelining: every {@linkcode RespClient.send} call writes its
 *   commands back to back on one connection, and replies are matched to callers in order.
 * - Writes are buffered and coalesced: commands issued in the same tick leave in one `write`.
 * - Binary safe: bulk strings are handed out as raw bytes, as UTF-8 text or as base64 of the raw
 *   bytes, decided per call, so the bytes are materialised exactly once.
 * - A dead connection (Redis restarted, killed or hung past the reply timeout) is dropped and the
 *   next call opens a new one; a call while Redis is unreachable fails within the connect
 *   timeout with a {@linkcode RespConnectionError}.
 *
 * @example Usage
 * ```ts
 * import { RespClient } from "./resp.ts";
 *
 * const client = new RespClient({ port: 6379 });
 * const [set, get] = await client.send([["SET", "k", "v"], ["GET", "k"]], { decoding: "text" });
 * console.log(set, get); // "OK" "v"
 * await client.close();
 * ```
 *
 * @module
 */

/** One argument of a Redis command: text is sent as UTF-8, numbers in decimal, bytes as is. */
export type RespArg = string | number | Uint8Array;

/**
 * One decoded RESP2 reply.
 *
 * - simple strings are `string`;
 * - bulk strings are `Uint8Array`, or `string` when decoded as text or base64;
 * - integers are `number`, or `bigint` beyond `Number.MAX_SAFE_INTEGER`;
 * - null bulk strings and null arrays are `null`;
 * - error replies are {@linkcode RespError} values (returned, not thrown);
 * - arrays are arrays of replies.
 */
export type RespReply =
  | string
  | number
  | bigint
  | null
  | Uint8Array
  | RespError
  | RespReply[];

/**
 * How strings in replies are handed out.
 *
 * - `"bytes"`: bulk strings as `Uint8Array` (a copy), simple strings as text;
 * - `"text"`: bulk and simple strings decoded as UTF-8 (invalid sequences become U+FFFD; a
 *   leading byte order mark is kept);
 * - `"base64"`: bulk and simple strings as the standard base64 of their raw bytes.
 */
export type RespDecoding = "bytes" | "text" | "base64";

/** An error reply from Redis (e.g. `ERR …`, `WRONGTYPE …`). Returned as a value, never thrown. */
export class RespError extends Error {
  /**
   * Wraps an error reply.
   *
   * @param message The error line as Redis sent it, without the leading `-`.
   */
  constructor(message: string) {
    super(message);
    this.name = "RespError";
  }
}

/**
 * The connection to Redis failed: refused, timed out, closed while replies were pending, or the
 * client was closed. Whether the commands of the failed call ran is unknown.
 */
export class RespConnectionError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed; never contains credentials.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RespConnectionError";
  }
}

/** Where and how to connect; see {@linkcode parseRedisUrl} for the URL form. */
export interface RespClientOptions {
  /** Host name or IP address. Defaults to `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port. */
  port: number;
  /** ACL user name, sent with `AUTH` when a password is set. */
  username?: string | undefined;
  /** Password, sent with `AUTH` on every new connection. */
  password?: string | undefined;
  /** Database index, sent with `SELECT` on every new connection when not 0. */
  db?: number;
  /** Upper bound for opening a connection, in ms. Defaults to 1000. */
  connectTimeoutMs?: number;
  /**
   * Upper bound for the oldest pending reply, in ms; when exceeded the connection is dropped and
   * every pending call fails. 0 disables it. Defaults to 10 000.
   */
  replyTimeoutMs?: number;
  /** Connections to spread calls over (round robin). Defaults to 1. */
  connections?: number;
}

/** Options of one {@linkcode RespClient.send} call. */
export interface RespSendOptions {
  /** How strings in the replies are handed out. Defaults to `"bytes"`. */
  decoding?: RespDecoding;
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` into connection options.
 *
 * @example Usage
 * ```ts
 * import { parseRedisUrl } from "./resp.ts";
 *
 * parseRedisUrl("redis://127.0.0.1:6380/1"); // { hostname: "127.0.0.1", port: 6380, db: 1 }
 * ```
 *
 * @param url A `redis://` URL; TLS (`rediss://`) is not supported.
 * @returns The options for {@linkcode RespClient}.
 * @throws {TypeError} When the URL is not a plain `redis://` URL.
 */
export function parseRedisUrl(url: string): RespClientOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError("Invalid Redis URL: expected redis://host:port");
  }
  if (parsed.protocol !== "redis:") {
    throw new TypeError(`Unsupported Redis URL scheme "${parsed.protocol}": expected redis://`);
  }
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  const options: RespClientOptions = { hostname, port };
  if (parsed.password !== "") options.password = decodeURIComponent(parsed.password);
  if (parsed.username !== "") options.username = decodeURIComponent(parsed.username);
  const path = parsed.pathname.replace(/^\//, "");
  if (path !== "") {
    const db = Number(path);
    if (!Number.isInteger(db) || db < 0) throw new TypeError("Invalid Redis URL: bad database");
    options.db = db;
  }
  return options;
}

/**
 * A pipelining RESP2 client. Calls never interleave on the wire: the commands of one
 * {@linkcode RespClient.send} call are written contiguously to one connection, which makes a
 * `MULTI … EXEC` sequence sent in one call a transaction.
 *
 * @example Usage
 * ```ts
 * import { RespClient } from "./resp.ts";
 *
 * const client = new RespClient({ port: 6379, connections: 2 });
 * const reply = await client.command(["INCR", "counter"]);
 * console.log(reply); // 1
 * await client.close();
 * ```
 */
export class RespClient {
  #options: Required<Omit<RespClientOptions, "username" | "password">> & {
    username?: string | undefined;
    password?: string | undefined;
  };
  #links: (Link | null)[];
  #next = 0;
  #closed = false;
  #retiring = new Set<Promise<void>>();

  /**
   * Creates a client. No connection is opened until the first call.
   *
   * @param options Where and how to connect.
   */
  constructor(options: RespClientOptions) {
    this.#options = {
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      username: options.username,
      password: options.password,
      db: options.db ?? 0,
      connectTimeoutMs: options.connectTimeoutMs ?? 1000,
      replyTimeoutMs: options.replyTimeoutMs ?? 10_000,
      connections: Math.max(1, Math.floor(options.connections ?? 1)),
    };
    this.#links = new Array(this.#options.connections).fill(null);
  }

  /**
   * Sends commands back to back on one connection and resolves with their replies in order.
   * Error replies are {@linkcode RespError} values in the array.
   *
   * @param commands The commands, each an array of arguments starting with the command name.
   * @param options How strings in the replies are handed out.
   * @returns One reply per command.
   * @throws {RespConnectionError} When Redis is unreachable, the connection drops or the client
   * is closed.
   */
  send(
    commands: readonly (readonly RespArg[])[],
    options?: RespSendOptions,
  ): Promise<RespReply[]> {
    if (this.#closed) return Promise.reject(new RespConnectionError("Redis client is closed"));
    if (commands.length === 0) return Promise.resolve([]);
    const slot = this.#next;
    this.#next = (slot + 1) % this.#links.length;
    let link = this.#links[slot];
    if (link === null || link.dead) {
      const fresh: Link = new Link(this.#options, () => this.#retire(slot, fresh));
      this.#links[slot] = link = fresh;
    }
    return link.send(commands, options?.decoding ?? "bytes");
  }

  /**
   * Sends one command.
   *
   * @param args The command name and its arguments.
   * @param options How strings in the reply are handed out.
   * @returns The reply; an error reply is a {@linkcode RespError} value.
   * @throws {RespConnectionError} When Redis is unreachable or the connection drops.
   */
  async command(args: readonly RespArg[], options?: RespSendOptions): Promise<RespReply> {
    const [reply] = await this.send([args], options);
    return reply;
  }

  /**
   * Fails pending calls, closes every connection and waits until their I/O has stopped.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const closing: Promise<void>[] = [...this.#retiring];
    for (const link of this.#links) if (link !== null) closing.push(link.close());
    this.#links.fill(null);
    await Promise.all(closing);
  }

  #retire(slot: number, link: Link): void {
    if (this.#links[slot] === link) this.#links[slot] = null;
    const done = link.done.finally(() => this.#retiring.delete(done));
    this.#retiring.add(done);
  }
}

// ---------------------------------------------------------------------------------------------
// One connection lifetime. A Link never reconnects: when it dies, the client makes a new one, so
// a late event of an old socket can never touch the state of a new one.

type LinkOptions = Required<Omit<RespClientOptions, "username" | "password">> & {
  username?: string | undefined;
  password?: string | undefined;
};

interface Pending {
  replies: RespReply[];
  remaining: number;
  decoding: RespDecoding;
  deadline: number;
  resolve(replies: RespReply[]): void;
  reject(error: Error): void;
}

const READ_CHUNK = 64 * 1024;

class Link {
  dead = false;
  readonly done: Promise<void>;
  #options: LinkOptions;
  #onDead: () => void;
  #conn: Deno.TcpConn | null = null;
  #abort = new AbortController();
  #out = new Encoder();
  #spare = new Encoder();
  #writer: Promise<void> | null = null;
  #flushQueued = false;
  #queue: Pending[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #parser = new Parser();

  constructor(options: LinkOptions, onDead: () => void) {
    this.#options = options;
    this.#onDead = onDead;
    // The handshake is queued before any caller's command, so it is the first thing on the wire.
    const handshake: RespArg[][] = [];
    if (options.password !== undefined) {
      handshake.push(
        options.username === undefined
          ? ["AUTH", options.password]
          : ["AUTH", options.username, options.password],
      );
    }
    if (options.db !== 0) handshake.push(["SELECT", options.db]);
    if (handshake.length > 0) {
      this.#enqueue(handshake, "text", (replies) => {
        const failed = replies.find((reply) => reply instanceof RespError);
        // Failing synchronously, inside the read loop, keeps the replies that follow (NOAUTH …)
        // from reaching callers as if they were answers to their commands. Only the first word
        // (WRONGPASS, NOAUTH …) is kept: the rest may echo configuration.
        if (failed instanceof RespError) {
          const code = failed.message.split(" ", 1)[0];
          this.#fail(new RespConnectionError(`Redis handshake failed: ${code}`));
        }
      }, () => {});
    }
    this.done = this.#run();
  }

  send(commands: readonly (readonly RespArg[])[], decoding: RespDecoding): Promise<RespReply[]> {
    if (this.dead) return Promise.reject(new RespConnectionError("Redis connection closed"));
    return new Promise<RespReply[]>((resolve, reject) => {
      this.#enqueue(commands, decoding, resolve, reject);
    });
  }

  #enqueue(
    commands: readonly (readonly RespArg[])[],
    decoding: RespDecoding,
    resolve: (replies: RespReply[]) => void,
    reject: (error: Error) => void,
  ): void {
    const out = this.#out;
    const mark = out.pos;
    try {
      for (const command of commands) out.command(command);
    } catch (error) {
      // A bad argument must not leave half a command in the buffer.
      out.pos = mark;
      reject(error instanceof Error ? error : new TypeError(String(error)));
      return;
    }
    const timeout = this.#options.replyTimeoutMs;
    this.#queue.push({
      replies: [],
      remaining: commands.length,
      decoding,
      deadline: timeout > 0 ? performance.now() + timeout : Infinity,
      resolve,
      reject,
    });
    if (timeout > 0 && this.#timer === undefined) this.#arm(timeout);
    this.#scheduleFlush();
  }

  close(): Promise<void> {
    this.#fail(new RespConnectionError("Redis client is closed"));
    return this.done;
  }

  async #run(): Promise<void> {
    const { hostname, port, connectTimeoutMs } = this.#options;
    const timer = setTimeout(() => this.#abort.abort(), connectTimeoutMs);
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname, port, signal: this.#abort.signal });
    } catch (cause) {
      this.#fail(
        new RespConnectionError(`Redis unreachable at ${hostname}:${port}`, { cause }),
      );
      return;
    } finally {
      clearTimeout(timer);
    }
    if (this.dead) {
      conn.close();
      return;
    }
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // Not every transport supports it; latency is only slightly worse without it.
    }
    this.#scheduleFlush();
    try {
      await this.#readLoop(conn);
    } catch (cause) {
      this.#fail(new RespConnectionError("Redis connection lost", { cause }));
    }
    await this.#writer;
  }

  async #readLoop(conn: Deno.TcpConn): Promise<void> {
    let buf = new Uint8Array(READ_CHUNK);
    let start = 0;
    let end = 0;
    const parser = this.#parser;
    while (!this.dead) {
      if (end === buf.length) {
        if (start > 0) {
          buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        } else {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
        }
      }
      const n = await conn.read(buf.subarray(end));
      if (n === null) throw new Error("Redis closed the connection");
      end += n;
      parser.buf = buf;
      parser.end = end;
      while (start < end && !this.dead) {
        const pending = this.#queue[this.#head];
        if (pending === undefined) throw new Error("Unexpected reply from Redis");
        parser.pos = start;
        parser.decoding = pending.decoding;
        const reply = parser.reply();
        if (reply === INCOMPLETE) break;
        start = parser.pos;
        pending.replies.push(reply);
        if (--pending.remaining === 0) this.#shift().resolve(pending.replies);
      }
      if (start === end) start = end = 0;
      // A large reply grew the buffer: give the memory back once it has been consumed.
      if (end === 0 && buf.length > 16 * READ_CHUNK) buf = new Uint8Array(READ_CHUNK);
    }
  }

  #shift(): Pending {
    const pending = this.#queue[this.#head++];
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    } else if (this.#head >= 1024) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    return pending;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const oldest = this.#queue[this.#head];
      if (oldest === undefined || this.dead) return;
      const left = oldest.deadline - performance.now();
      if (left <= 0) {
        this.#fail(new RespConnectionError("Redis did not answer in time"));
      } else {
        this.#arm(left);
      }
    }, ms);
  }

  #scheduleFlush(): void {
    if (this.#flushQueued || this.#writer !== null || this.#conn === null || this.dead) return;
    this.#flushQueued = true;
    // A microtask lets every command issued in the current tick join the same write.
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (this.#writer === null && this.#out.pos > 0 && !this.dead) {
        this.#writer = this.#flush();
      }
    });
  }

  async #flush(): Promise<void> {
    const conn = this.#conn!;
    try {
      while (this.#out.pos > 0 && !this.dead) {
        const full = this.#out;
        this.#out = this.#spare;
        this.#spare = full;
        let offset = 0;
        while (offset < full.pos) {
          offset += await conn.write(full.buf.subarray(offset, full.pos));
        }
        full.reset();
      }
    } catch (cause) {
      this.#fail(new RespConnectionError("Redis connection lost", { cause }));
    } finally {
      this.#writer = null;
    }
  }

  #fail(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#abort.abort();
    try {
      this.#conn?.close();
    } catch {
      // Already closed by the peer.
    }
    const queue = this.#queue;
    const head = this.#head;
    this.#queue = [];
    this.#head = 0;
    for (let i = head; i < queue.length; i++) queue[i].reject(error);
    this.#onDead();
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

const CR = 13;
const LF = 10;
const textEncoder = new TextEncoder();

function digitCount(n: number): number {
  let count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

/** A growable buffer of RESP-encoded commands. */
class Encoder {
  buf = new Uint8Array(16 * 1024);
  pos = 0;

  reset(): void {
    this.pos = 0;
    if (this.buf.length > 1024 * 1024) this.buf = new Uint8Array(16 * 1024);
  }

  command(args: readonly RespArg[]): void {
    if (args.length === 0) throw new TypeError("Empty Redis command");
    this.#header(42, args.length);
    for (const arg of args) {
      if (typeof arg === "string") this.#string(arg);
      else if (typeof arg === "number") this.#ascii(String(arg));
      else if (arg instanceof Uint8Array) this.#bytes(arg);
      else throw new TypeError("Redis arguments must be strings, numbers or bytes");
    }
  }

  #ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  /** Writes `<prefix><n>\r\n`. */
  #header(prefix: number, n: number): void {
    this.#ensure(24);
    const buf = this.buf;
    buf[this.pos++] = prefix;
    this.#uint(n);
    buf[this.pos++] = CR;
    buf[this.pos++] = LF;
  }

  #uint(n: number): void {
    const buf = this.buf;
    const count = digitCount(n);
    let p = this.pos + count;
    this.pos = p;
    do {
      buf[--p] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  #bytes(bytes: Uint8Array): void {
    this.#header(36, bytes.length);
    this.#ensure(bytes.length + 2);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
  }

  /** Strings known to be ASCII (decimal numbers). */
  #ascii(s: string): void {
    this.#header(36, s.length);
    this.#ensure(s.length + 2);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    buf[p++] = CR;
    buf[p++] = LF;
    this.pos = p;
  }

  #string(s: string): void {
    const length = s.length;
    // Short ASCII strings (command names, keys, small values) are copied by hand: cheaper than a
    // native call plus a view allocation.
    if (length <= 64) {
      const mark = this.pos;
      this.#header(36, length);
      this.#ensure(length + 2);
      const buf = this.buf;
      let p = this.pos;
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        buf[p++] = c;
      }
      if (i === length) {
        buf[p++] = CR;
        buf[p++] = LF;
        this.pos = p;
        return;
      }
      this.pos = mark;
    }
    // UTF-8 needs at most 3 bytes per UTF-16 unit. Encode straight into the buffer after room for
    // the longest possible length header, then close the gap if the header came out shorter.
    const max = length * 3;
    const room = digitCount(max);
    this.#ensure(room + max + 5);
    const buf = this.buf;
    const bodyAt = this.pos + room + 3;
    const { written } = textEncoder.encodeInto(s, buf.subarray(bodyAt, bodyAt + max));
    const used = digitCount(written);
    const target = this.pos + used + 3;
    if (target !== bodyAt) buf.copyWithin(target, bodyAt, bodyAt + written);
    buf[this.pos++] = 36;
    this.#uint(written);
    buf[this.pos++] = CR;
    buf[this.pos++] = LF;
    this.pos += written;
    buf[this.pos++] = CR;
    buf[this.pos++] = LF;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

const INCOMPLETE: unique symbol = Symbol("incomplete");
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const OK_BASE64 = "T0s=";

/**
 * Parses one reply starting at `pos`. On a partial reply it returns INCOMPLETE and the caller
 * retries from the same start once more bytes arrived; replies are small in practice, so the
 * re-parse is cheaper than keeping resumable state.
 */
class Parser {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  decoding: RespDecoding = "bytes";

  reply(): RespReply | typeof INCOMPLETE {
    const buf = this.buf;
    const type = buf[this.pos];
    const lineEnd = this.#lineEnd(this.pos + 1);
    if (lineEnd < 0) return INCOMPLETE;
    const lineStart = this.pos + 1;
    switch (type) {
      case 43: { // '+'
        this.pos = lineEnd + 2;
        return this.#simple(lineStart, lineEnd);
      }
      case 45: { // '-'
        this.pos = lineEnd + 2;
        return new RespError(textDecoder.decode(buf.subarray(lineStart, lineEnd)));
      }
      case 58: { // ':'
        this.pos = lineEnd + 2;
        return this.#integer(lineStart, lineEnd);
      }
      case 36: { // '$'
        const length = Number(this.#integer(lineStart, lineEnd));
        if (length < 0) {
          this.pos = lineEnd + 2;
          return null;
        }
        const bodyStart = lineEnd + 2;
        const bodyEnd = bodyStart + length;
        if (bodyEnd + 2 > this.end) return INCOMPLETE;
        this.pos = bodyEnd + 2;
        return this.#bulk(bodyStart, bodyEnd);
      }
      case 42: { // '*'
        const count = Number(this.#integer(lineStart, lineEnd));
        this.pos = lineEnd + 2;
        if (count < 0) return null;
        const items: RespReply[] = new Array(count);
        for (let i = 0; i < count; i++) {
          if (this.pos >= this.end) return INCOMPLETE;
          const item = this.reply();
          if (item === INCOMPLETE) return INCOMPLETE;
          items[i] = item;
        }
        return items;
      }
      default:
        throw new Error(`Invalid RESP type byte ${type}`);
    }
  }

  #lineEnd(from: number): number {
    const at = this.buf.indexOf(CR, from);
    return at < 0 || at + 1 >= this.end ? -1 : at;
  }

  #integer(start: number, end: number): number | bigint {
    const buf = this.buf;
    let i = start;
    const negative = buf[i] === 45;
    if (negative) i++;
    if (end - i > 15) {
      const big = BigInt(textDecoder.decode(buf.subarray(start, end)));
      const small = Number(big);
      return Number.isSafeInteger(small) ? small : big;
    }
    let n = 0;
    for (; i < end; i++) n = n * 10 + (buf[i] - 48);
    return negative ? -n : n;
  }

  #simple(start: number, end: number): string {
    const buf = this.buf;
    const isOk = end - start === 2 && buf[start] === 79 && buf[start + 1] === 75;
    if (this.decoding === "base64") return isOk ? OK_BASE64 : buf.subarray(start, end).toBase64();
    return isOk ? "OK" : textDecoder.decode(buf.subarray(start, end));
  }

  #bulk(start: number, end: number): string | Uint8Array {
    switch (this.decoding) {
      case "text":
        return start === end ? "" : textDecoder.decode(this.buf.subarray(start, end));
      case "base64":
        return start === end ? "" : this.buf.subarray(start, end).toBase64();
      default:
        return this.buf.slice(start, end);
    }
  }
}
