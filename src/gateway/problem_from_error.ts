/**
 * `problemFromError`: any caught error as the problem+json answer the gateway would give, for
 * edge functions that use the library directly and want the same error answers.
 *
 * @module
 */
import { isAqcError } from "../errors.ts";
import { problem, PROBLEM_STATUS, type ProblemCode } from "./problem.ts";

/** Codes whose answer says "try again later": they get a `Retry-After` even without a hint. */
const RETRY_LATER_STATUS = 503;

/** Longest `detail` copied from an error message. */
const MAX_DETAIL_CHARS = 500;

/**
 * Turns a caught error into an `application/problem+json` response: an `AqcError` keeps its
 * code, status (`credentials_rejected` 502, `upstream_timeout` 504, …) and message (which
 * never holds a secret or token); a 503 carries `Retry-After` (the error's hint, else 1 s).
 * Anything else is a 500 `internal_error` that says nothing about the error, since its
 * message may hold anything.
 *
 * @example
 * ```ts
 * import { AqcError } from "@aqc-edge/aqc-edge";
 * import { problemFromError } from "@aqc-edge/aqc-edge/gateway";
 *
 * const answer = problemFromError(new AqcError("upstream_timeout", "AQC did not answer"));
 * if (answer.status !== 504) throw new Error("unexpected");
 * if (answer.headers.get("content-type") !== "application/problem+json") throw new Error("unexpected");
 * if (problemFromError(new Error("secret inside")).status !== 500) throw new Error("unexpected");
 * ```
 *
 * @param error Anything caught.
 * @returns The answer; its body is `{type,title,status,detail,code}`.
 */
export function problemFromError(error: unknown): Response {
  // isAqcError checks a brand, so this also maps errors of another copy of aqc-edge; a code
  // that this copy does not know (a newer version's) is answered as an internal error.
  if (isAqcError(error) && Object.hasOwn(PROBLEM_STATUS, error.code)) {
    const code: ProblemCode = error.code;
    const { message, retryAfterSeconds: hint } = error;
    const retryAfterSeconds = typeof hint === "number" && Number.isFinite(hint)
      ? hint
      : PROBLEM_STATUS[code] === RETRY_LATER_STATUS
      ? 1
      : undefined;
    // Our messages are short sentences; a foreign copy's cannot make the answer unbounded.
    const detail = typeof message === "string" ? message.slice(0, MAX_DETAIL_CHARS) : code;
    return problem(code, detail, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
  }
  return problem("internal_error", "The request failed unexpectedly");
}
