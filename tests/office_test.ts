import assert from "node:assert/strict";
import fc from "fast-check";
import { AqcError, normalizeOfficeId } from "../src/mod.ts";

const upper = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ");
const alnum = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
const validOffice = fc.tuple(
  fc.array(upper, { minLength: 3, maxLength: 3 }),
  fc.array(alnum, { minLength: 6, maxLength: 6 }),
).map(([a, b]) => a.join("") + b.join(""));

Deno.test("normalizeOfficeId accepts documented examples", () => {
  assert.equal(normalizeOfficeId("NCE1A0955"), "NCE1A0955");
  assert.equal(normalizeOfficeId("DELAI08AA"), "DELAI08AA");
  assert.equal(normalizeOfficeId("  nce1a0955\t"), "NCE1A0955");
});

Deno.test("normalizeOfficeId: any casing and surrounding space of a valid id maps to it", () => {
  fc.assert(
    fc.property(
      validOffice,
      fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
      fc.constantFrom("", " ", "\t", "\n ", "  "),
      fc.constantFrom("", " ", "\r\n", "\t"),
      (office, lower, before, after) => {
        const mixed = [...office].map((c, i) => lower[i] ? c.toLowerCase() : c).join("");
        assert.equal(normalizeOfficeId(before + mixed + after), office);
      },
    ),
  );
});

Deno.test("normalizeOfficeId: the result is idempotent and always matches the pattern", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 20 }), (raw) => {
      let normalized: string;
      try {
        normalized = normalizeOfficeId(raw);
      } catch (error) {
        assert.ok(error instanceof AqcError);
        assert.equal(error.code, "office_invalid");
        // Fixed wording: the caller's input is never echoed back.
        assert.match(
          error.message,
          /^Office id must be (a string|3 letters then 6 letters or digits, e\.g\. NCE1A0955)$/,
        );
        return;
      }
      assert.match(normalized, /^[A-Z]{3}[A-Z0-9]{6}$/);
      assert.equal(normalizeOfficeId(normalized), normalized);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("normalizeOfficeId refuses wrong shapes with office_invalid", () => {
  for (
    const bad of [
      "",
      "NCE1A095",
      "NCE1A09555",
      "1CE1A0955",
      "NC11A0955",
      "NCE 1A0955",
      "NCE1A0955;",
      "NCE-1A095",
      "ıCE1A0955", // dotless i upper-cases to ASCII I
      "NCE1A0955\u0000",
      "../etc/pw",
    ]
  ) {
    assert.throws(
      () => normalizeOfficeId(bad),
      (e) => e instanceof AqcError && e.code === "office_invalid",
      bad,
    );
  }
  for (const notString of [undefined, null, 42, {}, ["NCE1A0955"]]) {
    assert.throws(
      () => normalizeOfficeId(notString),
      (e) => e instanceof AqcError && e.code === "office_invalid",
    );
  }
});

Deno.test("normalizeOfficeId: strings with a character outside [A-Za-z0-9] inside are refused", () => {
  fc.assert(
    fc.property(
      validOffice,
      fc.integer({ min: 1, max: 8 }),
      fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !/[A-Za-z0-9]/.test(c)),
      (office, at, intruder) => {
        const raw = office.slice(0, at) + intruder + office.slice(at + 1);
        assert.throws(
          () => normalizeOfficeId(raw),
          (e) => e instanceof AqcError && e.code === "office_invalid",
        );
      },
    ),
  );
});
