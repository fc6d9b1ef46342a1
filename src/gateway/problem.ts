/**
 * RFC 9457 problem details: every error the gateway itself answers.
 *
 * @module
 */
import type { AqcErrorCode } from "../errors.ts";

/** Codes of the gateway's own answers: the `AqcError` codes plus caller-side ones. */
export type ProblemCode =
  | AqcErrorCode
  | "unauthorized"
  | "office_forbidden"
  | "payload_too_large"
  | "not_found"
  | "method_not_allowed"
  | "not_ready"
  | "internal_error"
  | "caller_rate_limited"
  | "upstream_rate_limited"
  | "admin_required";

const TITLES: Record<ProblemCode, string> = {
  config_invalid: "Gateway misconfigured",
  office_invalid: "Invalid office id",
  path_invalid: "Invalid request path",
  credentials_rejected: "AQC rejected the gateway's credentials",
  token_request_rejected: "AQC token endpoint rejected the token request",
  token_endpoint_misconfigured: "AQC token endpoint misconfigured",
  token_endpoint_unavailable: "AQC token endpoint unavailable",
  token_response_invalid: "AQC token endpoint answered an invalid response",
  rate_limited: "AQC token endpoint rate limited",
  upstream_unreachable: "AQC unreachable",
  upstream_timeout: "AQC timed out",
  unauthorized: "Missing or invalid gateway key",
  office_forbidden: "Office not allowed for this key",
  payload_too_large: "Request body too large",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  not_ready: "Not ready",
  internal_error: "Internal error",
  caller_rate_limited: "Gateway key over its rate limit",
  upstream_rate_limited: "AQC is rate limiting this office",
  admin_required: "Admin gateway key required",
};

/** The HTTP status each code is answered with. */
export const PROBLEM_STATUS: Record<ProblemCode, number> = {
  config_invalid: 500,
  office_invalid: 400,
  path_invalid: 400,
  credentials_rejected: 502,
  token_request_rejected: 502,
  token_endpoint_misconfigured: 502,
  token_endpoint_unavailable: 503,
  token_response_invalid: 502,
  rate_limited: 503,
  upstream_unreachable: 502,
  upstream_timeout: 504,
  unauthorized: 401,
  office_forbidden: 403,
  payload_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  not_ready: 503,
  internal_error: 500,
  caller_rate_limited: 429,
  upstream_rate_limited: 429,
  admin_required: 403,
};

/** Options of {@linkcode problem}. */
export interface ProblemOptions {
  /** Seconds for a `Retry-After` header. */
  retryAfterSeconds?: number;
  /** Extra response headers. */
  headers?: HeadersInit;
}

/**
 * An `application/problem+json` response `{type,title,status,detail,code}`.
 *
 * @example
 * ```ts
 * import { problem } from "@aqc-edge/aqc-edge/gateway";
 *
 * const response = problem("office_forbidden", "This key may not call office NCE1A0955");
 * if (response.status !== 403) throw new Error("unexpected");
 * if ((await response.json()).code !== "office_forbidden") throw new Error("unexpected");
 * ```
 *
 * @param code The stable code; it sets the status and title.
 * @param detail A sentence for humans; never holds a secret.
 * @param options `Retry-After` and extra headers.
 * @returns The response.
 */
export function problem(code: ProblemCode, detail: string, options: ProblemOptions = {}): Response {
  const status = PROBLEM_STATUS[code];
  const headers = new Headers(options.headers);
  headers.set("content-type", "application/problem+json");
  headers.set("cache-control", "no-store");
  if (options.retryAfterSeconds !== undefined) {
    headers.set("retry-after", String(Math.max(1, Math.ceil(options.retryAfterSeconds))));
  }
  const body = {
    type: `https://aqc-edge.dev/problems/${code.replaceAll("_", "-")}`,
    title: TITLES[code],
    status,
    detail,
    code,
  };
  return new Response(JSON.stringify(body), { status, headers });
}
