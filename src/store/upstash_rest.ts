/**
 * `createUpstashRest`: the gateway's own Upstash REST client, fetch only, with just the three
 * commands the store and the fleet-wide guards send (`MGET`, `SET … PX [NX]`, `EVAL`). It
 * replaces `@upstash/redis` in `./gateway` and `./worker`, where that package was half of the
 * Worker bundle and of its module evaluation (docs/ARCHITECTURE.md, "Upstash client").
 *
 * On the wire it is the client `createUpstashRedis` configures (tests/upstash_rest_diff_test.ts
 * checks it against `@upstash/redis` 1.39.0): one `POST {url}` per command with the command as a
 * JSON array, `Authorization: Bearer`, `Upstash-Encoding: base64`, one attempt, a fresh
 * `AbortSignal.timeout` per request, read-your-writes through `upstash-sync-token`, results
 * returned raw. It differs only where that client is unsafe or accidental: a redirect is refused
 * (not followed with the token), an answer is capped at {@linkcode MAX_ANSWER_BYTES}, an answer
 * with neither `result` nor `error` is a bad answer (not a `TypeError`, which reads as
 * "unreachable"), and no error message quotes the command, the answer body or the token.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { readTextAtMost } from "../read_at_most.ts";
import { validateUpstashOptions } from "./upstash_options.ts";
import type { UpstashRedisClient } from "./upstash_store.ts";

/** Options of {@linkcode createUpstashRest}. */
export interface UpstashRestOptions {
  /** The database's REST URL (`UPSTASH_REDIS_REST_URL`): https, or http on loopback. */
  url: string;
  /** Its REST token (`UPSTASH_REDIS_REST_TOKEN`). Never logged, never in an error. */
  token: string;
  /** Upper bound of one request, answer included, in ms (default 500). */
  timeoutMs?: number;
  /** Transport; default the global `fetch` (looked up per call). */
  fetch?: typeof fetch;
}

/**
 * Largest answer read, in bytes (after content decoding). The store's largest answer is an
 * `MGET` of a few sealed records (a few KiB); a bigger one is not Upstash's and is not buffered.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

// What a Bearer token may hold without breaking the header or being rewritten by it: visible
// ASCII. Upstash tokens are base64. A runtime's "invalid header value" error quotes the value.
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/** An error of this client, named so that `classifyStoreError` files it as `@upstash/redis`'s. */
class Failure extends Error {
  constructor(
    name: "UpstashError" | "UpstashJSONParseError" | "UpstashAnswerError",
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

function base64decode(b64: string): string {
  // As @upstash/redis: a string that is not base64 is returned as it came.
  try {
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  } catch {
    return b64;
  }
}

/**
 * A base64-encoded result decoded the way `@upstash/redis` 1.39.0 does it (`decode` in its
 * pkg/http.ts), so both clients hand the store the same values: strings decoded (`OK` kept),
 * numbers and `null` kept, an object becomes `null`, nested arrays decoded element by element.
 */
function decode(raw: unknown): unknown {
  if (typeof raw === "number") return raw;
  if (typeof raw === "string") return raw === "OK" ? "OK" : base64decode(raw);
  if (Array.isArray(raw)) {
    return raw.map((v: unknown) =>
      typeof v === "string" ? base64decode(v) : Array.isArray(v) ? v.map(decode) : v
    );
  }
  if (typeof raw === "object") return null;
  return undefined;
}

/** The answer's text, at most `limit` bytes; more is a bad answer, and is not read. */
async function readText(response: Response, limit: number): Promise<string> {
  if (response.body === null) return "";
  const text = await readTextAtMost(response.body, limit);
  if (text === undefined) {
    throw new Failure("UpstashAnswerError", `Upstash answered more than ${limit} bytes`);
  }
  return text;
}

class UpstashRest implements UpstashRedisClient {
  readonly #url: string;
  readonly #token: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch | undefined;
  // Read-your-writes: the last token an answer carried, sent with the next request ("" at
  // first and after an answer without one, as @upstash/redis does).
  #syncToken = "";

  constructor(url: string, token: string, timeoutMs: number, fetchFn: typeof fetch | undefined) {
    this.#url = url;
    this.#token = token;
    this.#authorization = `Bearer ${token}`;
    this.#timeoutMs = timeoutMs;
    this.#fetch = fetchFn;
  }

  mget(...keys: string[]): Promise<unknown[]> {
    return this.#command(["mget", ...keys]) as Promise<unknown[]>;
  }

  set(
    key: string,
    value: string,
    options: { px: number } | { px: number; nx: true },
  ): Promise<unknown> {
    // The argument order @upstash/redis sends: NX before PX.
    const nx = "nx" in options && options.nx === true ? ["nx"] : [];
    return this.#command(["set", key, value, ...nx, "px", options.px]);
  }

  eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.#command(["eval", script, keys.length, ...keys, ...args]);
  }

  /**
   * Redacts the token, should an answer or a transport ever quote it, and bounds the text. A
   * token shorter than 8 characters is no real one (Upstash's are ~60) and would match ordinary
   * words, which `classifyStoreError` reads.
   */
  #clean(text: string): string {
    const redacted = this.#token.length < 8 ? text : text.split(this.#token).join("[token]");
    return redacted.slice(0, 200);
  }

  async #command(command: (string | number)[]): Promise<unknown> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let answer: { status: number; ok: boolean; text: string };
    try {
      const fetchFn = this.#fetch ?? fetch;
      const response = await fetchFn(this.#url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          authorization: this.#authorization,
          "Upstash-Encoding": "base64",
          "upstash-sync-token": this.#syncToken,
        },
        body: JSON.stringify(command),
        signal,
        // Upstash never redirects; following one would resend the token and the command
        // elsewhere (workerd has no `redirect: "error"`, so the 3xx is refused below).
        redirect: "manual",
      });
      if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
        response.body?.cancel().catch(() => undefined);
        throw new Failure("UpstashAnswerError", `Upstash answered a redirect (${response.status})`);
      }
      if (response.ok) this.#syncToken = response.headers.get("upstash-sync-token") ?? "";
      answer = {
        status: response.status,
        ok: response.ok,
        text: await readText(response, MAX_ANSWER_BYTES),
      };
    } catch (error) {
      if (error instanceof Failure) throw error;
      if (signal.aborted) {
        throw new DOMException(
          `Upstash did not answer within ${this.#timeoutMs} ms`,
          "TimeoutError",
        );
      }
      // No `cause`: a transport's error is not ours to vouch for (Deno's invalid-header error
      // quotes the header); its message is kept, bounded and with the token redacted.
      const why = error instanceof Error ? error.message : String(error);
      throw new TypeError(`Upstash is unreachable: ${this.#clean(why)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      // Never the body: a proxy's page may quote the request.
      throw new Failure(
        "UpstashJSONParseError",
        `Upstash answered HTTP ${answer.status} that is not JSON`,
      );
    }
    const fields = typeof body === "object" && body !== null && !Array.isArray(body)
      ? body as { result?: unknown; error?: unknown }
      : {};
    // As @upstash/redis: any truthy `error` is the error, whatever the status.
    if (fields.error) throw new Failure("UpstashError", this.#clean(String(fields.error)));
    if (!answer.ok) {
      throw new Failure("UpstashError", `answered HTTP ${answer.status} without an error message`);
    }
    const result = decode(fields.result);
    if (result === undefined) {
      throw new Failure("UpstashAnswerError", "Upstash answered neither a result nor an error");
    }
    return result;
  }
}

/**
 * Builds the gateway's Upstash client (see the module doc). Checks the settings as
 * `createUpstashRedis` does, and refuses a token a header cannot carry as it is.
 *
 * @example
 * ```ts
 * import { createUpstashRest } from "./upstash_rest.ts";
 *
 * const redis = createUpstashRest({ url: "https://x.upstash.io", token: "AXXX", timeoutMs: 500 });
 * if (typeof redis.eval !== "function") throw new Error("unexpected");
 * ```
 *
 * @param options URL, token, timeout, transport.
 * @returns A client for `UpstashTokenStore` and the gateway's guards.
 * @throws {AqcError} `config_invalid` for a bad URL, token or timeout (never quoting them).
 */
export function createUpstashRest(options: UpstashRestOptions): UpstashRedisClient {
  const { url, timeoutMs } = validateUpstashOptions(options);
  if (!HEADER_SAFE.test(options.token)) {
    throw new AqcError(
      "config_invalid",
      "Upstash token must be printable ASCII without spaces or control characters",
    );
  }
  return new UpstashRest(url, options.token, timeoutMs, options.fetch);
}
