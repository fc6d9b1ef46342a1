import assert from "../../tests/helpers/assert.ts";
import fc from "fast-check";
import { headerPairs, pairValue } from "./request_headers.ts";

/** What a `Headers` makes of `init`, without `authorization`, as sorted pairs. */
function viaHeaders(init: HeadersInit): [string, string][] | "TypeError" {
  let headers: Headers;
  try {
    headers = new Headers(init);
  } catch (error) {
    if (error instanceof TypeError) return "TypeError";
    throw error;
  }
  headers.delete("authorization");
  return [...headers];
}

function viaPairs(init: HeadersInit): [string, string][] | "TypeError" {
  let pairs: [string, string][];
  try {
    pairs = headerPairs(init);
  } catch (error) {
    if (error instanceof TypeError) return "TypeError";
    throw error;
  }
  // Whatever headerPairs accepted, the transport accepts: a bad header is refused before the
  // token is read, never later as an "AQC is unreachable".
  return [...new Headers(pairs)];
}

/**
 * Values compared as HTTP lists: a value combined from repeated names ("v" and "" make
 * "v, ") loses its trailing space when a transport reads the combined text back, as any
 * `Headers` handed on as pairs does; HTTP reads both spellings the same.
 */
function listed(result: [string, string][] | "TypeError"): [string, string][] | "TypeError" {
  if (result === "TypeError") return result;
  return result.map(([name, value]) => [name, value.replace(/\s*,\s*/g, ",").trim()]);
}

// Names and values from the awkward corners: mixed case, authorization in any case,
// whitespace at either end, tabs, CR/LF, NUL, non-ASCII, empty, invalid name characters.
const name = fc.oneof(
  fc.constantFrom("Accept", "accept", "AUTHORIZATION", "Authorization", "x-a", "Content-Type"),
  fc.constantFrom("bad name", "bad:name", "", "ünï", "x\u0000y"),
  fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}$/),
);
const value = fc.oneof(
  fc.constantFrom("v", " padded ", "\ttab", "a\r\nb", "nul\u0000", "caf\u00e9", "€", ""),
  fc.string({ maxLength: 12 }),
);
const pairs = fc.array(fc.tuple(name, value), { maxLength: 6 });

Deno.test("headerPairs: the transport builds the same Headers a copy would, authorization dropped", () => {
  fc.assert(
    fc.property(pairs, fc.constantFrom("array", "record", "headers"), (entries, form) => {
      let init: HeadersInit;
      if (form === "array") init = entries;
      else if (form === "record") init = Object.fromEntries(entries);
      else {
        try {
          init = new Headers(entries);
        } catch {
          return; // Not constructible as Headers: nothing to compare.
        }
      }
      assert.deepEqual(listed(viaPairs(init)), listed(viaHeaders(init)));
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("headerPairs: undefined, malformed entries and the bearer", () => {
  assert.deepEqual(headerPairs(undefined), []);
  // A bad entry shape is Headers' TypeError, not something quieter.
  assert.throws(() => headerPairs([["a", "b", "c"]] as unknown as HeadersInit), TypeError);
  const out = headerPairs({ Authorization: "Bearer caller", Accept: "application/json" });
  assert.deepEqual(out, [["accept", "application/json"]]);
  // Fresh pairs each time: the caller's record is never the array handed on.
  const init: [string, string][] = [["accept", "a"]];
  assert.notEqual(headerPairs(init), init);
});

Deno.test("pairValue: joins repeated names as Headers does", () => {
  const repeated: [string, string][] = [["accept", "a"], ["x", "1"], ["accept", "b"]];
  assert.equal(pairValue(repeated, "accept"), new Headers(repeated).get("accept"));
  assert.equal(pairValue(repeated, "missing"), null);
});
