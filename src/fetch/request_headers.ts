/**
 * The headers of an AQC call as name/value pairs, handed to the transport as they are.
 *
 * A `Headers` built here would be built again by the transport (`fetch` copies whatever
 * `HeadersInit` it is given), and building one is costly on Deno: 0.7 µs for one bearer
 * header, 2 µs for a copy plus a delete and a set (WebIDL byte-string checks per character).
 * Pairs cost a few array slots; the transport validates them once, as it would anyway.
 *
 * @module
 */

/** Name/value pairs, lower-case names, in the order given. */
export type HeaderPairs = [string, string][];

/** An RFC 9110 field name (`token`). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A value `Headers` keeps exactly as written: printable ASCII without leading or trailing
 * whitespace (which `Headers` would strip). Anything else (non-ASCII bytes, tabs, CR/LF,
 * NUL) goes through a real `Headers`, which normalises it or throws its own `TypeError`.
 */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

function fromHeaders(headers: Headers, out: HeaderPairs): HeaderPairs {
  // `forEach`, not `for…of`: the iterator protocol through WebIDL wrappers costs several
  // times more on Deno, for the same (sorted, combined, lower-case) pairs.
  headers.forEach((value, name) => {
    if (name !== "authorization") out.push([name, value]);
  });
  return out;
}

/**
 * The caller's headers as pairs, without any `Authorization` (the bearer is added per
 * attempt). Throws the `TypeError` a `Headers` would for an invalid name or value.
 *
 * @param init The caller's `HeadersInit`, if any.
 * @returns Fresh pairs the caller may extend.
 */
export function headerPairs(init: HeadersInit | undefined): HeaderPairs {
  const out: HeaderPairs = [];
  if (init === undefined || init === null) return out;
  if (init instanceof Headers) return fromHeaders(init, out);
  const entries: Iterable<unknown> | undefined = Array.isArray(init)
    ? init
    : typeof init === "object" && Symbol.iterator in init
    ? undefined
    : Object.entries(init);
  if (entries === undefined) return fromHeaders(new Headers(init), out);
  for (const entry of entries) {
    const [rawName, value] = Array.isArray(entry) && entry.length === 2 ? entry : [];
    if (
      typeof rawName !== "string" || typeof value !== "string" || !FIELD_NAME.test(rawName) ||
      !PLAIN_VALUE.test(value)
    ) {
      // The rare case: let `Headers` normalise it, or throw exactly as it would.
      return fromHeaders(new Headers(init), []);
    }
    const name = rawName.toLowerCase();
    if (name !== "authorization") out.push([name, value]);
  }
  return out;
}

/**
 * The value of a header in pairs (several values joined as `Headers` would join them).
 *
 * @param pairs The pairs.
 * @param name A lower-case name.
 * @returns The value, or `null`.
 */
export function pairValue(pairs: HeaderPairs, name: string): string | null {
  let found: string | null = null;
  for (const [key, value] of pairs) {
    if (key === name) found = found === null ? value : `${found}, ${value}`;
  }
  return found;
}
