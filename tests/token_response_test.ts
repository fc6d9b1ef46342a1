import assert from "node:assert/strict";
import fc from "fast-check";
import { AqcError } from "../src/mod.ts";
import { MAX_TOKEN_LIFETIME_S, parseTokenResponse } from "../src/token/request.ts";

const isInvalid = (e: unknown) => e instanceof AqcError && e.code === "token_response_invalid";

const validBody = fc.record({
  type: fc.constant("amadeusOAuth2Token"),
  token_type: fc.constantFrom("Bearer", "bearer", "BEARER", "bEaReR"),
  access_token: fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,64}$/),
  expires_in: fc.oneof(
    fc.integer({ min: 1, max: 200_000 }),
    fc.double({ min: 0.001, max: 1e9, noNaN: true }),
  ),
  state: fc.option(fc.constant("approved"), { nil: undefined }),
});

Deno.test("parseTokenResponse: every valid body is accepted, lifetime capped at 24 h", () => {
  fc.assert(
    fc.property(validBody, (body) => {
      const token = parseTokenResponse(body);
      assert.equal(token.accessToken, body.access_token);
      assert.equal(token.expiresInSeconds, Math.min(body.expires_in, MAX_TOKEN_LIFETIME_S));
      assert.ok(token.expiresInSeconds <= 86_400);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("parseTokenResponse: breaking any one rule gives token_response_invalid", () => {
  const breakers: Array<[string, fc.Arbitrary<unknown>]> = [
    [
      "access_token",
      fc.constantFrom("", null, 42, undefined, ["x"], {}, "has space", "line\nbreak"),
    ],
    ["token_type", fc.constantFrom("Basic", "", null, 1, "Bearer ", "MAC", undefined)],
    [
      "expires_in",
      fc.constantFrom(0, -1, -1799, Number.NaN, Infinity, -Infinity, "1799", null, undefined, true),
    ],
    ["state", fc.constantFrom("expired", "pending", "", null, 0, "APPROVED")],
  ];
  for (const [field, values] of breakers) {
    fc.assert(
      fc.property(validBody, values, (body, value) => {
        const broken: Record<string, unknown> = { ...body, [field]: value };
        if (value === undefined) delete broken[field];
        if (field === "state" && value === undefined) return; // absent state is allowed
        assert.throws(() => parseTokenResponse(broken), isInvalid, `${field}=${String(value)}`);
      }),
      { numRuns: 200 },
    );
  }
});

Deno.test("parseTokenResponse: anything that is not an object is invalid", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.anything()), fc.boolean()),
      (body) => {
        assert.throws(() => parseTokenResponse(body), isInvalid);
      },
    ),
  );
});

Deno.test("parseTokenResponse: an error never quotes the token or any field value", () => {
  fc.assert(
    fc.property(validBody, fc.string({ minLength: 8 }), (body, secret) => {
      const broken = { ...body, access_token: body.access_token, token_type: secret + "X" };
      try {
        parseTokenResponse(broken);
      } catch (error) {
        assert.ok(error instanceof AqcError);
        assert.ok(!String(error).includes(body.access_token) || body.access_token.length < 4);
        assert.ok(!String(error).includes(secret + "X"));
      }
    }),
  );
});
