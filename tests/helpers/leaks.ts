/**
 * Leak scanning for tests: a secret looked for in every encoding it could hide in.
 *
 * @module
 */

/** A value that must never appear, with a name for reports (never the value itself). */
export interface Needle {
  /** What it is, e.g. `client secret` or `token #3`. */
  name: string;
  /** The value. */
  value: string;
}

/** Text to search, with where it came from. */
export interface Haystack {
  /** Where it came from, e.g. `gateway output` or `redis aqc:v1:tok:…`. */
  where: string;
  /** The text. */
  text: string;
}

const encoder = new TextEncoder();

function base64Of(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Every form `value` could take in a log, a URL or a stored blob: as is, lower- and
 * upper-case, percent-encoded, hex, and base64 / base64url at each of the three byte
 * alignments it could have inside a longer base64 text (only the characters that depend on
 * `value` alone are kept, so an embedded copy is found too).
 *
 * @param value The secret.
 * @returns Distinct search strings.
 */
export function encodings(value: string): string[] {
  const bytes = encoder.encode(value);
  const forms = new Set<string>([
    value,
    value.toLowerCase(),
    value.toUpperCase(),
    encodeURIComponent(value),
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
  ]);
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const text = base64Of(padded).replace(/=+$/, "");
    // Characters of the first group mix in the padding; those of the last may be partial.
    const start = offset === 0 ? 0 : 4;
    const tail = (offset + bytes.length) % 3 === 0 ? text.length : text.length - 3;
    const core = text.slice(start, Math.max(start, tail));
    if (core.length >= 8) {
      forms.add(core);
      forms.add(core.replaceAll("+", "-").replaceAll("/", "_"));
    }
  }
  return [...forms].filter((form) => form.length >= 6);
}

/**
 * Searches every haystack for every needle in every encoding.
 *
 * @param haystacks The texts.
 * @param needles The secrets.
 * @returns One line per hit: where, and which needle (never its value).
 */
export function findLeaks(haystacks: readonly Haystack[], needles: readonly Needle[]): string[] {
  const hits: string[] = [];
  const forms = needles.map((needle) => ({ needle, forms: encodings(needle.value) }));
  for (const haystack of haystacks) {
    for (const { needle, forms: list } of forms) {
      if (list.some((form) => haystack.text.includes(form))) {
        hits.push(`${haystack.where}: ${needle.name}`);
      }
    }
  }
  return hits;
}
