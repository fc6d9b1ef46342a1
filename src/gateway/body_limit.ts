/**
 * The proxy's request-body limit (`AQC_MAX_BODY_BYTES`). Replaces Hono's `bodyLimit`
 * middleware: a declared `Content-Length` (without `Transfer-Encoding`) over the limit is
 * refused before anything is read; every other body is read up to the limit and handed on
 * as bytes, because AQC must see the whole body or none of it (and `createAqcFetch` holds
 * a body for its one replay after a 401 anyway).
 *
 * @module
 */
import { readBytesAtMost } from "../read_at_most.ts";

/** A `Content-Length` value the way HTTP spells it: decimal digits only. */
const DECIMAL = /^[0-9]{1,15}$/;

/**
 * Why a body is not forwarded: `too_large` (413); `broken`: it stopped arriving (the
 * caller went away mid-body, or broke its framing); `slow`: it did not arrive within the
 * deadline (a caller trickling it in holds a connection and its bytes). Neither of the last
 * two is the gateway's failure.
 */
export type BodyRefusal = "too_large" | "broken" | "slow";

/**
 * The request's body, read and within `maxBytes`, or why not.
 *
 * @param request The caller's request.
 * @param maxBytes Most body bytes accepted.
 * @param deadline Aborts when the whole body should have arrived (a shared timeout signal).
 * @returns The bytes to forward, `null` when the request has no body, or the refusal.
 */
export async function readBodyWithin(
  request: Request,
  maxBytes: number,
  deadline: AbortSignal,
): Promise<Uint8Array<ArrayBuffer> | null | BodyRefusal> {
  const body = request.body;
  if (body === null) return null;
  const headers = request.headers;
  const declared = headers.get("content-length");
  const expected = declared !== null && DECIMAL.test(declared) &&
      !headers.has("transfer-encoding")
    ? Number(declared)
    : undefined;
  if (expected !== undefined && expected > maxBytes) return "too_large";
  let bytes: Uint8Array<ArrayBuffer> | undefined;
  try {
    bytes = await readBytesAtMost(body, maxBytes, { signal: deadline, expected });
  } catch {
    return deadline.aborted ? "slow" : "broken";
  }
  return bytes === undefined ? "too_large" : bytes;
}
