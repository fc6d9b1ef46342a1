/**
 * Office id normalisation: the one gate every office id passes before any network call.
 *
 * @module
 */
import { AqcError } from "./errors.ts";

const OFFICE_PATTERN = /^[A-Z]{3}[A-Z0-9]{6}$/;

/**
 * Trims and upper-cases an Amadeus office id (`guest_office_id`) and checks that it reads
 * as three letters then six letters or digits, e.g. `NCE1A0955`.
 *
 * @example
 * ```ts
 * import { normalizeOfficeId } from "@aqc-edge/aqc-edge";
 *
 * if (normalizeOfficeId(" nce1a0955 ") !== "NCE1A0955") throw new Error("unexpected");
 * ```
 *
 * @param officeId The office id as a caller wrote it.
 * @returns The canonical office id.
 * @throws {AqcError} `office_invalid` when it is not a string of that shape.
 */
export function normalizeOfficeId(officeId: unknown): string {
  if (typeof officeId !== "string") {
    throw new AqcError("office_invalid", "Office id must be a string");
  }
  const normalized = officeId.trim().toUpperCase();
  // toUpperCase maps a few non-ASCII letters onto ASCII ones (e.g. "ı" → "I"); the pattern
  // below would then accept an id the caller never wrote, so refuse non-ASCII input first.
  if (!/^[\x20-\x7e]*$/.test(officeId.trim()) || !OFFICE_PATTERN.test(normalized)) {
    throw new AqcError(
      "office_invalid",
      "Office id must be 3 letters then 6 letters or digits, e.g. NCE1A0955",
    );
  }
  return normalized;
}
