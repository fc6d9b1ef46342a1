import assert from "../../tests/helpers/assert.ts";
import { callerRequestId } from "./request_policy.ts";

Deno.test("callerRequestId: bounded, printable, no quotes or backslashes", () => {
  assert.equal(callerRequestId(new Headers()), undefined);
  assert.equal(callerRequestId(new Headers({ "x-request-id": "abc-123" })), "abc-123");
  const hostile = callerRequestId(
    new Headers({ "x-request-id": `"}{\\"level":"error"é` + "x".repeat(500) }),
  )!;
  assert.equal(hostile.length, 128);
  assert.match(hostile, /^[\x21\x23-\x5b\x5d-\x7e]+$/);
  assert.ok(hostile.startsWith("_}{__level_:_error"));
});
