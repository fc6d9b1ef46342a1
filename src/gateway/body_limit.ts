/**
 * The proxy's request-body limit (`AQC_MAX_BODY_BYTES`). Replaces Hono's `bodyLimit`
 * middleware with the same rules: a declared `Content-Length` (without
 * `Transfer-Encoding`) is trusted, since the runtime's HTTP server holds the body to it; any
 * other body is read up to the limit and handed on as bytes, because AQC must see either the
 * whole body or none of it.
 *
 * @module
 */
import { readBytesAtMost } from "../read_at_most.ts";

/** A `Content-Length` value the way HTTP spells it: decimal digits only. */
const DECIMAL = /^[0-9]{1,15}$/;

/**
 * The request with its body within `maxBytes`, or `undefined` when the body is larger.
 *
 * @param request The caller's request.
 * @param maxBytes Most body bytes accepted.
 * @returns The request to forward (the same one unless its body had to be read), or
 *   `undefined` for a body over the limit. A body that fails to arrive rejects.
 */
export async function withinBodyLimit(
  request: Request,
  maxBytes: number,
): Promise<Request | undefined> {
  const body = request.body;
  if (body === null) return request;
  const headers = request.headers;
  const declared = headers.get("content-length");
  if (declared !== null && DECIMAL.test(declared) && !headers.has("transfer-encoding")) {
    return Number(declared) > maxBytes ? undefined : request;
  }
  const bytes = await readBytesAtMost(body, maxBytes);
  return bytes === undefined ? undefined : new Request(request, { body: bytes });
}
