/**
 * `Retry-After` parsing (RFC 9110 §10.2.3).
 *
 * @module
 */

const MAX_RETRY_AFTER_S = 3600;

/**
 * Reads a `Retry-After` value as seconds from `now`: delay-seconds or an HTTP date.
 * Answers `undefined` when absent or unreadable; caps the result at one hour so a
 * hostile or broken header cannot lock an office out for long.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "./retry_after.ts";
 *
 * if (parseRetryAfter("7", Date.now()) !== 7) throw new Error("unexpected");
 * ```
 *
 * @param value The header value, or `null`.
 * @param now Epoch ms to measure an HTTP date from.
 * @returns Seconds to wait, or `undefined`.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_RETRY_AFTER_S);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - now) / 1000)), MAX_RETRY_AFTER_S);
}
