/**
 * `StoreError`: why a shared-cache call failed, for the `store_error` event and for people
 * who call a store directly.
 *
 * @module
 */

/**
 * Why a store call failed.
 *
 * - `quota`: the database's request limit is spent (Upstash `ERR max requests limit exceeded`);
 * - `permission`: the token may not run the command (`NOPERM`, e.g. a read-only token);
 * - `bad_answer`: an answer that is not the store's protocol (an HTML 502 page from a proxy,
 *   a reply of the wrong shape, an aborted call turned into an empty success);
 * - `unreachable`: no answer (network error, timeout, abort);
 * - `failed`: any other error reply.
 */
export type StoreErrorReason = "quota" | "permission" | "bad_answer" | "unreachable" | "failed";

/**
 * A store call failed. `TokenManager` treats it as a miss (and its circuit breaker bounds
 * what that costs); it never reaches a caller of the gateway. The message names the reason and
 * the operation, never a key, a value or a token.
 */
export class StoreError extends Error {
  /** Why it failed. */
  readonly reason: StoreErrorReason;

  /**
   * Creates the error.
   *
   * @param reason Why it failed.
   * @param message A sentence-case message without secrets.
   */
  constructor(reason: StoreErrorReason, message: string) {
    super(message);
    this.name = "StoreError";
    this.reason = reason;
  }
}

/**
 * Classifies an error thrown by an `@upstash/redis` client, or by the gateway's own
 * (`upstash_rest.ts`, which names its errors alike), into a {@linkcode StoreError},
 * keeping nothing of it but the kind (not even as `cause`): Upstash appends the command to its
 * errors, and the command holds key names and sealed records.
 *
 * @param operation The store operation, e.g. `read`.
 * @param error What the client threw.
 * @returns The classified error.
 */
export function classifyStoreError(operation: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  if (/max (daily )?requests? limit|limit exceeded/i.test(message)) {
    return new StoreError("quota", `Upstash request quota exceeded (${operation})`);
  }
  if (/^NOPERM\b/.test(message)) {
    return new StoreError("permission", `Upstash token may not run this command (${operation})`);
  }
  if (name === "UpstashJSONParseError" || error instanceof SyntaxError) {
    return new StoreError(
      "bad_answer",
      `Upstash answered something that is not JSON (${operation})`,
    );
  }
  if (name === "UpstashAnswerError") {
    // The gateway's client (upstash_rest.ts): a redirect, an oversized or shapeless answer.
    return new StoreError("bad_answer", `Upstash answered an unexpected reply (${operation})`);
  }
  if (name === "AbortError" || name === "TimeoutError" || error instanceof TypeError) {
    return new StoreError("unreachable", `Upstash did not answer (${operation})`);
  }
  const kind = /^([A-Z]+)\b/.exec(message)?.[1] ?? "error";
  return new StoreError("failed", `Upstash answered ${kind} (${operation})`);
}
