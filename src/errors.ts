/**
 * The one error type of aqc-edge: every failure carries a stable string `code`.
 *
 * @module
 */

/** Every code an {@linkcode AqcError} can carry; stable across versions. */
export type AqcErrorCode =
  | "config_invalid"
  | "office_invalid"
  | "path_invalid"
  | "credentials_rejected"
  | "token_request_rejected"
  | "token_endpoint_misconfigured"
  | "token_endpoint_unavailable"
  | "token_response_invalid"
  | "rate_limited"
  | "upstream_unreachable"
  | "upstream_timeout";

/** Options of {@linkcode AqcError}. */
export interface AqcErrorOptions {
  /** HTTP status of the answer that caused the error, when there was one. */
  status?: number;
  /** Seconds after which a retry may succeed, when known (from `Retry-After` or a backoff). */
  retryAfterSeconds?: number;
  /** The underlying error; never holds a secret or a token. */
  cause?: unknown;
}

/**
 * An error with a stable `code`. Messages never contain a client secret or an access
 * token, so an `AqcError` is safe to log as a whole.
 *
 * @example Branch on the code
 * ```ts
 * import { AqcError, isAqcError } from "@aqc-edge/aqc-edge";
 *
 * const err: unknown = new AqcError("office_invalid", "Office id must be 9 characters");
 * if (!(isAqcError(err) && err.code === "office_invalid")) throw new Error("unexpected");
 * if (String(err) !== "AqcError [office_invalid]: Office id must be 9 characters") throw new Error("unexpected");
 * ```
 */
export class AqcError extends Error {
  /** The stable machine-readable code. */
  readonly code: AqcErrorCode;
  /** HTTP status of the answer that caused the error, when there was one. */
  readonly status?: number;
  /** Seconds after which a retry may succeed, when known. */
  readonly retryAfterSeconds?: number;

  /**
   * Creates an error with a code and a message that holds no secret.
   *
   * @param code The stable code.
   * @param message A sentence-case message without a trailing period.
   * @param options Status, retry hint and cause.
   */
  constructor(code: AqcErrorCode, message: string, options: AqcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AqcError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterSeconds !== undefined) {
      this.retryAfterSeconds = options.retryAfterSeconds;
    }
  }

  /** The error as `AqcError [code]: message`. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

/**
 * The brand every `AqcError` carries on its prototype. `Symbol.for` gives the same symbol to
 * every copy of this module, so two copies of the package (two versions, or a bundle beside
 * the source) still recognise each other's errors, where `instanceof` would not.
 */
const AQC_ERROR_BRAND: unique symbol = Symbol.for("aqc-edge.AqcError");
Object.defineProperty(AqcError.prototype, AQC_ERROR_BRAND, { value: true });

/**
 * Whether `value` is an {@linkcode AqcError}, optionally with the given code. It checks a
 * brand, not `instanceof`, so it also recognises errors made by another copy of aqc-edge.
 *
 * @example
 * ```ts
 * import { AqcError, isAqcError } from "@aqc-edge/aqc-edge";
 *
 * const err: unknown = new AqcError("rate_limited", "Token endpoint answered 429");
 * if (!isAqcError(err, "rate_limited")) throw new Error("unexpected");
 * if (isAqcError(err, "office_invalid")) throw new Error("unexpected");
 * if (isAqcError(new Error("other"))) throw new Error("unexpected");
 * ```
 *
 * @param value Anything caught.
 * @param code When given, the code it must have.
 * @returns `true` when it is such an error.
 */
export function isAqcError(value: unknown, code?: AqcErrorCode): value is AqcError {
  if (typeof value !== "object" || value === null) return false;
  try {
    const branded = value as { [AQC_ERROR_BRAND]?: unknown; code?: unknown };
    if (branded[AQC_ERROR_BRAND] !== true || typeof branded.code !== "string") return false;
    return code === undefined || branded.code === code;
  } catch {
    // A revoked proxy or a throwing getter: whatever it is, it is not one of ours.
    return false;
  }
}
