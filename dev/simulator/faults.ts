/**
 * Fault injection: latency, hangs, dropped connections and canned failure answers.
 *
 * @module
 */

import {
  AMADEUS_JSON,
  notAuthorized,
  oauthError,
  serverError,
  tokenRejected,
  tooManyRequests,
} from "./errors.ts";
import type { ApiFailure, TokenFailure } from "./knobs.ts";

/**
 * The simulator dropped the connection. An in-process {@linkcode Simulator.fetch} rejects
 * with it, just as the real `fetch` rejects with a `TypeError` on a network error; the
 * served simulator turns it into a closed TCP connection.
 */
export class ConnectionResetError extends TypeError {
  /**
   * Creates the error.
   *
   * @param message Why the connection was dropped.
   */
  constructor(message = "Connection reset by the AQC simulator") {
    super(message);
    this.name = "ConnectionResetError";
  }
}

/**
 * Waits, unless the signal aborts first; leaves no timer behind either way.
 *
 * @param ms Delay in milliseconds; 0 or less returns at once.
 * @param signal Aborts the wait.
 * @returns Resolves after the delay; rejects with the signal's reason on abort.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Never resolves; rejects with the signal's reason once it aborts. Holds no timer, so a
 * hung request does not keep the process alive by itself.
 *
 * @param signal Ends the hang.
 * @returns A promise that only ever rejects.
 */
export function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/**
 * Consumes one use of a failure knob when it applies to a request.
 *
 * @param failure The knob in effect (mutated: `remaining` counts down).
 * @param officeId Office of the request, when known.
 * @returns Whether the failure applies, and whether its budget is now spent.
 */
export function takeFailure(
  failure: TokenFailure | ApiFailure | null,
  officeId: string | undefined,
): { applies: boolean; exhausted: boolean } {
  if (failure === null) return { applies: false, exhausted: false };
  if (failure.offices !== undefined && !failure.offices.includes(officeId ?? "")) {
    return { applies: false, exhausted: false };
  }
  if (failure.remaining === undefined) return { applies: true, exhausted: false };
  if (failure.remaining <= 0) return { applies: false, exhausted: true };
  failure.remaining--;
  return { applies: true, exhausted: failure.remaining === 0 };
}

/**
 * Produces the answer of a failure knob, or hangs, or drops the connection.
 *
 * @param failure The failure that applies.
 * @param signal Ends a hang (client gone, or simulator released).
 * @returns The failure answer.
 * @throws {ConnectionResetError} For `reset`.
 */
export async function failureResponse(
  failure: TokenFailure | ApiFailure,
  signal: AbortSignal,
): Promise<Response> {
  switch (failure.mode) {
    case "status":
      if (failure.body === undefined && failure.contentType === undefined) {
        const res = serverError(failure.status);
        for (const [k, v] of Object.entries(failure.headers ?? {})) res.headers.set(k, v);
        return res;
      }
      return new Response(failure.body ?? "", {
        status: failure.status,
        headers: { ...failure.headers, "content-type": failure.contentType ?? AMADEUS_JSON },
      });
    case "rate_limited":
      return tooManyRequests(failure.retryAfterSeconds ?? 1);
    case "malformed":
      return new Response(failure.body, {
        status: failure.status ?? 200,
        headers: { "content-type": failure.contentType ?? "application/json" },
      });
    case "invalid_client":
      return oauthError(401, "invalid_client", "Client credentials are invalid");
    case "invalid_token":
      return tokenRejected("unknown");
    case "unauthorized":
      return notAuthorized(failure.challenge);
    case "hang":
      return await hang(signal);
    case "reset":
      throw new ConnectionResetError();
  }
}
