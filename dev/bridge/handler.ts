/**
 * A local Upstash: the Upstash Redis REST protocol over a real `redis-server`, compatible with
 * {@link https://github.com/hiett/serverless-redis-http | serverless-redis-http} (SRH), so that
 * `@upstash/redis` can be pointed at it in development, tests and benchmarks.
 *
 * | request | answer |
 * | --- | --- |
 * | `GET /` | 200 `"Welcome to Serverless Redis HTTP!"` (no auth) |
 * | `POST /` body `["SET","k","v"]` | 200 `{"result":…}` · 400 `{"error":"ERR …"}` |
 * | `POST /pipeline` body `[[…],[…]]` | 200 `[{"result":…},{"error":"…"}]` (errors inline) |
 * | `POST /multi-exec` body `[[…],[…]]` | 200 as pipeline, run in `MULTI`/`EXEC`; 400 when Redis discards the transaction (`EXECABORT`) |
 * | `GET`/`POST /<command>/<arg>/…` | Upstash's path form, like `POST /` |
 *
 * Every command request needs `Authorization: Bearer <token>` (401 otherwise); JSON bodies need
 * `Content-Type: application/json` (400 otherwise). With `Upstash-Encoding: base64` every string
 * in a result (bulk and status replies such as `OK`, at any depth) is the base64 of its raw bytes;
 * integers, nulls and error messages are unchanged. Redis unreachable, or not answering within the
 * reply timeout, is 500 `{"error":"Unable to connect to the Redis server"}`.
 *
 * Commands that would change the state of the shared connections (`MULTI`, `SELECT`,
 * `SUBSCRIBE` …) or block them (`BLPOP` …) are refused with an `ERR` error.
 *
 * @module
 */

import {
  parseRedisUrl,
  RedisLink,
  RespConnectionError,
  type RespDecoding,
  RespError,
  type RespReply,
} from "./redis.ts";
import { type BridgeHabits, type BridgeStats, Habits } from "./habits.ts";

export type { BridgeFault, BridgeHabits, BridgeStats } from "./habits.ts";

/** Options of {@linkcode createBridge}. */
export interface BridgeOptions {
  /** The bearer token clients must send. Must not be empty. */
  token: string;
  /** The Redis server, `redis://[[user]:password@]host:port[/db]`. */
  connection: string;
  /** Upper bound for opening a Redis connection, in ms. Defaults to 1000. */
  connectTimeoutMs?: number;
  /** Upper bound for a Redis reply, in ms, before answering 500. Defaults to 10 000. */
  replyTimeoutMs?: number;
  /**
   * A second Redis that plays Upstash's read replica (`redis://…`): with the habit
   * `replicaLagMs`, reads are served from it and writes reach it that late.
   */
  replica?: string;
  /** Production habits to start with (latency, replica lag, faults, sync tokens). */
  habits?: BridgeHabits;
}

/** A running bridge: a Web-standard `fetch` handler plus its Redis connections. */
export interface Bridge {
  /**
   * Answers one Upstash REST request.
   *
   * @param request The HTTP request.
   * @returns The Upstash-shaped response.
   */
  fetch(request: Request): Promise<Response>;
  /** Replaces the production habits (see `habits.ts`). */
  setHabits(habits: BridgeHabits): void;
  /** Counters since start. */
  stats(): BridgeStats;
  /** Closes the Redis connections; later requests are answered 500. */
  close(): Promise<void>;
}

type Command = (string | number)[];

/**
 * Upstash runs a script under a global lock unless its shebang says
 * `flags=allow-key-locking`; redis-server 7 refuses that flag ("Unexpected flag in script
 * shebang"). Dropping it here lets production scripts carry it while tests run them locally.
 */
function stripShebangFlags(command: Command): Command {
  const name = String(command[0]).toUpperCase();
  if (name !== "EVAL" && name !== "EVAL_RO" && name !== "SCRIPT") return command;
  const at = name === "SCRIPT" ? 2 : 1;
  if (name === "SCRIPT" && String(command[1]).toUpperCase() !== "LOAD") return command;
  const script = command[at];
  if (typeof script !== "string" || !script.startsWith("#!")) return command;
  const newline = script.indexOf("\n");
  const line = newline === -1 ? script : script.slice(0, newline);
  const rewritten = line.replace(/\s+flags=(\S*)/, (_, flags: string) => {
    const kept = flags.split(",").filter((flag) => flag !== "" && flag !== "allow-key-locking");
    return kept.length === 0 ? "" : ` flags=${kept.join(",")}`;
  });
  if (rewritten === line) return command;
  const copy = [...command];
  copy[at] = rewritten + (newline === -1 ? "" : script.slice(newline));
  return copy;
}

type JsonResult = string | number | null | JsonResult[] | { readonly rawJSON: string };

interface Entry {
  result?: JsonResult;
  error?: string;
}

/** The bridge's own control endpoint (habits and counters); Upstash has no such path. */
const CONTROL = "/__bridge/habits";
const WELCOME = '"Welcome to Serverless Redis HTTP!"';
const UNREACHABLE = "Unable to connect to the Redis server";
const JSON_HEADERS: HeadersInit = { "content-type": "application/json" };

/**
 * Commands refused because they would change the state of a connection shared by all requests,
 * or hold it for a long time. `MULTI`/`EXEC` go through `/multi-exec` instead.
 */
const REFUSED = new Set([
  "AUTH",
  "BLMOVE",
  "BLMPOP",
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BZMPOP",
  "BZPOPMAX",
  "BZPOPMIN",
  "DISCARD",
  "EXEC",
  "HELLO",
  "MONITOR",
  "MULTI",
  "PSUBSCRIBE",
  "PSYNC",
  "PUNSUBSCRIBE",
  "QUIT",
  "REPLCONF",
  "RESET",
  "SELECT",
  "SSUBSCRIBE",
  "SUBSCRIBE",
  "SUNSUBSCRIBE",
  "SYNC",
  "UNSUBSCRIBE",
  "UNWATCH",
  "WAIT",
  "WAITAOF",
  "WATCH",
]);

const REFUSED_CLIENT = new Set(["REPLY", "TRACKING", "CACHING", "PAUSE", "KILL"]);

/**
 * Creates an SRH-compatible Upstash REST bridge over a Redis server.
 *
 * @example Serve it
 * ```ts
 * import { createBridge } from "./handler.ts";
 *
 * const bridge = createBridge({ token: "dev-token", connection: "redis://127.0.0.1:6379" });
 * Deno.serve({ hostname: "127.0.0.1", port: 8079 }, bridge.fetch);
 * ```
 *
 * @param options The token and the Redis connection.
 * @returns The bridge; call `close()` when done.
 * @throws {TypeError} When the token is empty or the connection URL is invalid.
 */
export function createBridge(options: BridgeOptions): Bridge {
  if (typeof options.token !== "string" || options.token === "") {
    throw new TypeError("The bridge token must not be empty");
  }
  const timeouts = {
    ...(options.connectTimeoutMs === undefined
      ? {}
      : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: options.replyTimeoutMs }),
  };
  const client = new RedisLink({ ...parseRedisUrl(options.connection), ...timeouts });
  const replica = options.replica === undefined
    ? undefined
    : new RedisLink({ ...parseRedisUrl(options.replica), ...timeouts });
  const habits = new Habits(client, replica, options.habits ?? {});
  const expected = new TextEncoder().encode(options.token);

  async function handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const method = request.method;
    if (path === "/" && (method === "GET" || method === "HEAD")) {
      return new Response(WELCOME, { status: 200, headers: JSON_HEADERS });
    }
    if (path === CONTROL && method !== "GET" && method !== "POST") {
      return error(404, "Endpoint not found");
    }
    const route = path === "/" || path === "/pipeline" || path === "/multi-exec" ? path : null;
    if (route !== null) {
      if (method !== "POST") return error(404, "Endpoint not found");
      if (!isJson(request.headers.get("content-type"))) {
        return error(400, "Invalid content type. Expected application/json.");
      }
    } else if (method !== "GET" && method !== "POST") {
      return error(404, "Endpoint not found");
    }
    const auth = authorize(request.headers.get("authorization"), expected);
    if (auth !== null) return error(401, auth);
    if (path === CONTROL) return control(request);
    const decoding: RespDecoding = isBase64(request.headers.get("upstash-encoding"))
      ? "base64"
      : "text";
    const sync = request.headers.get("upstash-sync-token");
    try {
      let commands: Command[];
      let kind: "single" | "pipeline" | "transaction";
      switch (route) {
        case "/":
          commands = [toCommand(await readJson(request), "root")];
          kind = "single";
          break;
        case "/pipeline":
          commands = toCommands(await readJson(request));
          kind = "pipeline";
          break;
        case "/multi-exec":
          commands = toCommands(await readJson(request));
          kind = "transaction";
          break;
        default:
          commands = [await pathCommand(request, path)];
          kind = "single";
      }
      habits.stats.requests++;
      await habits.latency();
      const fault = await habits.fault(commands);
      if (fault !== undefined) {
        return new Response(fault.body, {
          status: fault.status,
          headers: { "content-type": fault.contentType },
        });
      }
      const allowed = commands.map(stripShebangFlags).filter((command) =>
        refusal(command) === null
      );
      const { link, writes } = await habits.route(allowed, sync);
      let response: Response;
      if (kind === "single") response = await single(link, commands[0], decoding);
      else if (kind === "pipeline") response = await pipeline(link, commands, decoding);
      else response = await transaction(link, commands, decoding);
      await habits.afterWrite(writes);
      const token = habits.syncToken();
      if (token !== undefined) response.headers.set("upstash-sync-token", token);
      return response;
    } catch (caught) {
      if (caught instanceof BadRequest) return error(400, caught.message);
      if (caught instanceof RespConnectionError) return error(500, UNREACHABLE);
      throw caught;
    }
  }

  async function single(
    link: RedisLink,
    raw: Command,
    decoding: RespDecoding,
  ): Promise<Response> {
    const command = stripShebangFlags(raw);
    const refused = refusal(command);
    if (refused !== null) return error(400, refused);
    const [reply] = await link.send([command], { decoding });
    if (reply instanceof RespError) return error(400, reply.message);
    return json(200, { result: toJson(reply) });
  }

  async function pipeline(
    link: RedisLink,
    raw: Command[],
    decoding: RespDecoding,
  ): Promise<Response> {
    const commands = raw.map(stripShebangFlags);
    const entries: Entry[] = new Array(commands.length);
    const allowed: Command[] = [];
    const slots: number[] = [];
    for (let i = 0; i < commands.length; i++) {
      const refused = refusal(commands[i]);
      if (refused === null) {
        allowed.push(commands[i]);
        slots.push(i);
      } else {
        entries[i] = { error: refused };
      }
    }
    const replies = await link.send(allowed, { decoding });
    for (let i = 0; i < replies.length; i++) entries[slots[i]] = toEntry(replies[i]);
    return json(200, entries);
  }

  async function transaction(
    link: RedisLink,
    raw: Command[],
    decoding: RespDecoding,
  ): Promise<Response> {
    const commands = raw.map(stripShebangFlags);
    if (commands.length === 0) return json(200, []);
    for (const command of commands) {
      const refused = refusal(command);
      if (refused !== null) return error(400, refused);
    }
    const exec = await link.transaction(commands, { decoding });
    if (exec instanceof RespError) return error(400, exec.message);
    return json(200, exec.map(toEntry));
  }

  async function control(request: Request): Promise<Response> {
    if (request.method === "GET") return json(200, { habits: habits.get(), stats: habits.stats });
    try {
      habits.set(await request.json());
    } catch (caught) {
      return error(400, caught instanceof Error ? caught.message : "Invalid habits");
    }
    return json(200, { habits: habits.get() });
  }

  return {
    async fetch(request: Request): Promise<Response> {
      try {
        return await handle(request);
      } catch {
        return error(500, "An error occurred internally");
      }
    },
    setHabits(next: BridgeHabits): void {
      habits.set(next);
    },
    stats(): BridgeStats {
      return { ...habits.stats };
    },
    async close(): Promise<void> {
      habits.close();
      await Promise.all([client.close(), replica?.close()]);
    },
  };
}

class BadRequest extends Error {}

function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  const semicolon = contentType.indexOf(";");
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim();
  return type.toLowerCase() === "application/json";
}

function isBase64(encoding: string | null): boolean {
  return encoding !== null && encoding.trim().toLowerCase() === "base64";
}

/**
 * Returns null when authorized, otherwise the error message. The token comparison takes the same
 * time for every candidate of a given length, so response timing does not reveal a prefix match.
 */
function authorize(header: string | null, expected: Uint8Array): string | null {
  if (header === null || !header.startsWith("Bearer ")) {
    return "Missing/Invalid authorization header";
  }
  const given = new TextEncoder().encode(header.slice(7).trim());
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected[i] ^ (i < given.length ? given[i] : 0);
  }
  return diff === 0 ? null : "Invalid token";
}

async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw new BadRequest("Invalid JSON body");
  }
}

function toCommand(value: unknown, where: "root" | "pipeline"): Command {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest(
      where === "root"
        ? "Invalid command array. Expected a string array at root of the command and its arguments."
        : "Invalid command array. Expected an array of string arrays at root.",
    );
  }
  for (let i = 0; i < value.length; i++) {
    const arg: unknown = value[i];
    if (typeof arg === "string" || (typeof arg === "number" && Number.isFinite(arg))) continue;
    if (typeof arg === "boolean") {
      value[i] = String(arg);
      continue;
    }
    throw new BadRequest("Invalid command argument: expected strings and numbers");
  }
  return value as Command;
}

function toCommands(value: unknown): Command[] {
  if (!Array.isArray(value)) {
    throw new BadRequest("Invalid command array. Expected an array of string arrays at root.");
  }
  return value.map((command) => toCommand(command, "pipeline"));
}

/** Upstash's path form: `/set/key/value?EX=10`, with a POST body as the last argument. */
async function pathCommand(request: Request, path: string): Promise<Command> {
  const command: Command = [];
  for (const segment of path.split("/")) {
    if (segment === "") continue;
    try {
      command.push(decodeURIComponent(segment));
    } catch {
      throw new BadRequest("Invalid path encoding");
    }
  }
  for (const [key, value] of new URL(request.url).searchParams) {
    if (key === "_token") continue;
    command.push(key);
    if (value !== "") command.push(value);
  }
  if (request.method === "POST") {
    const body = await request.text();
    if (body !== "") command.push(body);
  }
  return command;
}

function refusal(command: Command): string | null {
  const name = String(command[0]).toUpperCase();
  if (REFUSED.has(name)) {
    return name === "MULTI" || name === "EXEC"
      ? `ERR ${name} is not supported here: use the /multi-exec endpoint`
      : `ERR ${name} is not supported by the bridge`;
  }
  if (name === "CLIENT" && REFUSED_CLIENT.has(String(command[1] ?? "").toUpperCase())) {
    return `ERR CLIENT ${String(command[1]).toUpperCase()} is not supported by the bridge`;
  }
  if ((name === "XREAD" || name === "XREADGROUP") && hasBlock(command)) {
    return `ERR ${name} BLOCK is not supported by the bridge`;
  }
  return null;
}

function hasBlock(command: Command): boolean {
  return command.some((arg, i) => i > 0 && String(arg).toUpperCase() === "BLOCK");
}

const rawJson = (JSON as unknown as { rawJSON?: (text: string) => { readonly rawJSON: string } })
  .rawJSON;

/**
 * Turns a decoded reply into a JSON value: large integers keep every digit, and error replies
 * nested in arrays (e.g. returned by a script) become their message.
 */
function toJson(reply: RespReply): JsonResult {
  if (typeof reply === "string" || typeof reply === "number" || reply === null) return reply;
  if (typeof reply === "bigint") {
    return rawJson === undefined ? Number(reply) : rawJson(reply.toString());
  }
  if (reply instanceof RespError) return reply.message;
  if (Array.isArray(reply)) {
    for (let i = 0; i < reply.length; i++) {
      const item = reply[i];
      if (typeof item !== "string" && typeof item !== "number" && item !== null) {
        return reply.map(toJson);
      }
    }
    return reply as JsonResult[];
  }
  // Bytes only come back with the "bytes" decoding, which the bridge never asks for.
  return new TextDecoder().decode(reply);
}

function toEntry(reply: RespReply): Entry {
  return reply instanceof RespError ? { error: reply.message } : { result: toJson(reply) };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

function error(status: number, message: string): Response {
  return json(status, { error: message });
}
