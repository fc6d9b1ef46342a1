/**
 * What the gateway decides about every request before routing it: the methods it serves,
 * its own request id, and what of the caller's request id may reach a log line.
 *
 * @module
 */
import type { MiddlewareHandler } from "@hono/hono";
import type { GatewayEnv } from "./create_gateway.ts";
import { problem } from "./problem.ts";

/** The methods the gateway serves; any other (TRACE, CONNECT, custom) answers 405. */
const ALLOWED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const ALLOW = [...ALLOWED_METHODS].join(", ");

/**
 * Methods whose upstream call is abandoned when the caller hangs up before AQC answers:
 * repeating or dropping them changes nothing at AQC. A POST, PUT, PATCH or DELETE runs to
 * completion, so AQC's side of it is not cut off at an unknown point.
 */
export const ABANDONABLE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** Longest caller `X-Request-Id` copied into a log line. */
const MAX_CALLER_REQUEST_ID = 128;

/**
 * The caller's `X-Request-Id`, for logs only: cut to a bounded length and reduced to
 * printable ASCII without quotes or backslashes, so it can neither flood nor forge a line.
 *
 * @param headers The caller's headers.
 * @returns The sanitised id, or `undefined` when none was sent.
 */
export function callerRequestId(headers: Headers): string | undefined {
  const value = headers.get("x-request-id");
  if (value === null || value === "") return undefined;
  return value.slice(0, MAX_CALLER_REQUEST_ID).replace(/[^\x21\x23-\x5b\x5d-\x7e]/g, "_");
}

/**
 * The first middleware: answers 405 `method_not_allowed` (with `Allow`) for methods the
 * gateway does not serve, and labels every answer (proxied, problem or 404 alike) with a
 * request id of the gateway's own choosing. A caller's `X-Request-Id` is never the id: it
 * would let callers forge or collide the ids operators search logs by.
 *
 * @returns The middleware.
 */
export function requestPolicy(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const id = crypto.randomUUID();
    c.set("requestId", id);
    if (!ALLOWED_METHODS.has(c.req.method)) {
      c.res = problem("method_not_allowed", `Method ${c.req.method.slice(0, 32)} is not served`, {
        headers: { allow: ALLOW, "x-request-id": id },
      });
      return;
    }
    await next();
    c.res = labelRequest(c.res, id);
  };
}

/**
 * The answer labelled with the gateway's request id.
 *
 * @param response An answer of the gateway.
 * @param requestId The request's id.
 * @returns `response`, or a copy of it when its headers were immutable.
 */
export function labelRequest(response: Response, requestId: string): Response {
  try {
    response.headers.set("x-request-id", requestId);
    return response;
  } catch {
    // An immutable response (none of ours): copy it once to label it.
    const labelled = new Response(response.body, response);
    labelled.headers.set("x-request-id", requestId);
    return labelled;
  }
}
