/**
 * Reading AQC's answers: whether a 401 is about the token, and a body labelled by the
 * headers that describe it.
 *
 * @module
 */
import { readTextAtMost } from "../read_at_most.ts";

/** The encodings Deno's (and Node's) `fetch` decodes while keeping `Content-Encoding`. */
const DECODED_BY_FETCH = new Set(["gzip", "br"]);

/** AQC's codes for a token it refuses: invalid, malformed header, expired, revoked. */
const TOKEN_ERROR_CODES = new Set([38190, 38191, 38192, 38193]);

/** Most of a 401 body read to classify it; AQC's error bodies are a few hundred bytes. */
const MAX_401_BODY_BYTES = 16_384;

/** `error="invalid_token"` in a Bearer challenge (RFC 6750 §3.1), quoted or not. */
const INVALID_TOKEN_CHALLENGE = /(?:^|[\s,])error\s*=\s*"?invalid_token"?(?:[\s,;]|$)/i;

/**
 * Whether AQC's 401 says the token itself is bad (so a fresh one may succeed): a
 * `WWW-Authenticate: Bearer error="invalid_token"` challenge, or an Amadeus error body
 * `{"errors":[{"code":38190…38193}]}`. Any other 401 (an API refusing the request, a
 * non-AQC server) is about something a new token cannot fix. Reads at most 16 KiB of a
 * copy of the body; `response` itself stays unread.
 *
 * @param response A 401 answer.
 * @param decoded Whether the transport already decoded gzip/br bodies.
 * @returns Whether evicting the token and replaying can help.
 */
export async function isTokenRejection(response: Response, decoded: boolean): Promise<boolean> {
  const challenge = response.headers.get("www-authenticate");
  if (challenge !== null && /^\s*bearer\b/i.test(challenge)) {
    if (INVALID_TOKEN_CHALLENGE.test(challenge)) return true;
  }
  if (response.body === null) return false;
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > MAX_401_BODY_BYTES) return false;
  const text = await readBounded(response.clone(), MAX_401_BODY_BYTES, decoded);
  if (text === undefined) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return false;
  // `code` may be a number or a string, like the token endpoint's.
  return errors.some((error) =>
    TOKEN_ERROR_CODES.has(Number((error as { code?: unknown } | null)?.code))
  );
}

/**
 * The body of a clone as text, or `undefined` past `limit` bytes or when undecodable. The
 * clone is a branch of a tee: cancelling it resolves only once the other branch (the
 * caller's) is done too, so cancels here are never awaited.
 */
async function readBounded(
  response: Response,
  limit: number,
  decoded: boolean,
): Promise<string | undefined> {
  let body = response.body;
  if (body === null) return undefined;
  const encoding = response.headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== "identity") {
    if (decoded && DECODED_BY_FETCH.has(encoding)) {
      // Already plain.
    } else if (encoding === "gzip" || encoding === "deflate") {
      // A custom transport may hand over the bytes still compressed.
      body = body.pipeThrough(new DecompressionStream(encoding));
    } else {
      body.cancel().catch(() => {});
      return undefined;
    }
  }
  try {
    return await readTextAtMost(body, limit);
  } catch {
    return undefined;
  }
}

/**
 * Whether `Content-Encoding` and `Content-Length` describe bytes the transport already
 * decoded (see {@linkcode describedAnswer}).
 *
 * @param headers The answer's headers.
 * @param decoded Whether the transport decoded gzip/br bodies.
 * @returns `true` when both headers must be dropped.
 */
export function hasStaleEncoding(headers: Headers, decoded: boolean): boolean {
  if (!decoded) return false;
  const encoding = headers.get("content-encoding");
  return encoding !== null && DECODED_BY_FETCH.has(encoding.trim().toLowerCase());
}

/**
 * The answer with headers that describe its bytes.
 *
 * Deno's `fetch` decodes a `gzip` or `br` body but keeps `Content-Encoding` and the
 * compressed `Content-Length`: passed on as is, a caller gets plain bytes labelled gzip
 * and cut at the compressed length. With `decoded`, those two headers are dropped for the
 * encodings the runtime decodes (the server may compress again for its caller). Other
 * encodings arrive undecoded and keep their label. workerd decodes too; a kept label
 * there makes it pass AQC's encoded bytes through, to callers that never accepted them
 * when the content type is one it does not recompress (`application/vnd.amadeus+json`).
 *
 * Returns `response` itself when nothing needs changing (one header lookup: iterating a
 * `Headers` costs microseconds on Deno).
 *
 * @param response AQC's answer.
 * @param decoded Whether the transport decoded gzip/br bodies.
 * @returns The answer to hand on.
 */
export function describedAnswer(response: Response, decoded: boolean): Response {
  if (!hasStaleEncoding(response.headers, decoded)) return response;
  const headers = new Headers(response.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
