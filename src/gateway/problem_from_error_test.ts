/** `problemFromError`: the gateway's answer for any caught error, never a leaked message. */
import assert from "../../tests/helpers/assert.ts";
import { AqcError } from "../errors.ts";
import { problemFromError } from "./problem_from_error.ts";

Deno.test("problemFromError: status per code, Retry-After on 503s, nothing from other errors", async () => {
  const cases: [AqcError, number, string | null][] = [
    [
      new AqcError("credentials_rejected", "Token endpoint rejected the client credentials"),
      502,
      null,
    ],
    [new AqcError("upstream_timeout", "AQC did not answer"), 504, null],
    [new AqcError("office_invalid", "Office id must be 9 characters"), 400, null],
    [new AqcError("token_endpoint_unavailable", "Token endpoint is unavailable"), 503, "1"],
    [new AqcError("rate_limited", "Rate limited", { retryAfterSeconds: 12.2 }), 503, "13"],
  ];
  for (const [error, status, retryAfter] of cases) {
    const answer = problemFromError(error);
    assert.equal(answer.status, status, error.code);
    assert.equal(answer.headers.get("retry-after"), retryAfter, error.code);
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
    const body = await answer.json();
    assert.deepEqual([body.code, body.status, body.detail], [error.code, status, error.message]);
  }
  const secret = "Bearer sk_live_must_not_leak";
  for (const other of [new Error(secret), new TypeError(secret), secret, { message: secret }]) {
    const answer = problemFromError(other);
    assert.equal(answer.status, 500);
    const text = await answer.text();
    assert.ok(!text.includes("sk_live"), text);
    assert.equal(JSON.parse(text).code, "internal_error");
  }
});
