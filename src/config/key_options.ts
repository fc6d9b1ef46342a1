/**
 * The optional fields of an `AQC_GATEWAY_KEYS` entry: `rateLimit` and `admin`.
 *
 * @module
 */

/** A caller's limit: `requests` per `windowSeconds`, per office when `perOffice`. */
export interface RateLimit {
  /** Requests allowed per window, 1 or more. */
  requests: number;
  /** The window, in seconds. */
  windowSeconds: number;
  /** `true`: one window per office; `false` (default): one for all the key's offices. */
  perOffice: boolean;
}

/** The optional key fields, validated. */
export interface KeyOptions {
  /** The caller's rate limit, when set. */
  rateLimit?: RateLimit;
  /** Whether the key may read `GET /status`. */
  admin: boolean;
}

const MAX_REQUESTS = 1_000_000_000;
const MAX_WINDOW_S = 86_400;
const RATE_LIMIT_FIELDS = new Set(["requests", "windowSeconds", "perOffice"]);

function wholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Validates `rateLimit` and `admin` of one key entry.
 *
 * @param item The entry (already known to be an object).
 * @param at Its name in messages, e.g. `AQC_GATEWAY_KEYS[0]`.
 * @param problem Collects one sentence per problem.
 * @returns The options (those with problems left out).
 */
export function parseKeyOptions(
  item: Record<string, unknown>,
  at: string,
  problem: (message: string) => void,
): KeyOptions {
  const out: KeyOptions = { admin: false };
  if (item.admin !== undefined) {
    if (typeof item.admin === "boolean") out.admin = item.admin;
    else problem(`${at}.admin must be true or false`);
  }
  const raw = item.rateLimit;
  if (raw === undefined) return out;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    problem(`${at}.rateLimit must be an object: {"requests":100,"windowSeconds":60}`);
    return out;
  }
  const limit = raw as Record<string, unknown>;
  let valid = true;
  for (const field of Object.keys(limit)) {
    if (!RATE_LIMIT_FIELDS.has(field)) {
      problem(`${at}.rateLimit has an unknown field "${field.slice(0, 20)}"`);
      valid = false;
    }
  }
  if (!wholeNumber(limit.requests, 1, MAX_REQUESTS)) {
    problem(`${at}.rateLimit.requests must be a whole number from 1 to ${MAX_REQUESTS}`);
    valid = false;
  }
  if (!wholeNumber(limit.windowSeconds, 1, MAX_WINDOW_S)) {
    problem(`${at}.rateLimit.windowSeconds must be a whole number from 1 to ${MAX_WINDOW_S}`);
    valid = false;
  }
  if (limit.perOffice !== undefined && typeof limit.perOffice !== "boolean") {
    problem(`${at}.rateLimit.perOffice must be true or false`);
    valid = false;
  }
  if (valid) {
    out.rateLimit = {
      requests: limit.requests as number,
      windowSeconds: limit.windowSeconds as number,
      perOffice: limit.perOffice === true,
    };
  }
  return out;
}
