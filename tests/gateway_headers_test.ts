/**
 * The gateway's header filters: one pass each way, end-to-end headers only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { forwardRequestHeaders, forwardResponseHeaders } from "../src/gateway/headers.ts";

Deno.test("request: the caller's key, Host, lengths, hop-by-hop and Connection-named headers stay behind", () => {
  const pairs = forwardRequestHeaders(
    new Headers({
      authorization: "Bearer aqcgw_secret",
      "proxy-authorization": "Basic x",
      host: "gateway.example",
      "content-length": "12",
      expect: "100-continue",
      connection: "keep-alive, X-Hop",
      "keep-alive": "timeout=5",
      "x-hop": "1",
      te: "trailers",
      accept: "application/json",
      "x-trace": "abc",
    }),
  );
  assert.deepEqual(pairs, [["accept", "application/json"], ["x-trace", "abc"]]);
  assert.deepEqual([...new Headers(pairs)], pairs);
});

Deno.test("response: hop-by-hop headers are dropped, every Set-Cookie is kept", () => {
  const upstream = new Headers([
    ["content-type", "application/vnd.amadeus+json"],
    ["set-cookie", "a=1; Path=/"],
    ["set-cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"],
    ["connection", "close, x-internal"],
    ["x-internal", "1"],
    ["transfer-encoding", "chunked"],
    ["x-request-id", "r1"],
  ]);
  const pairs = forwardResponseHeaders(upstream);
  const headers = new Headers(pairs);
  assert.equal(headers.get("content-type"), "application/vnd.amadeus+json");
  assert.equal(headers.get("x-request-id"), "r1");
  for (const dropped of ["connection", "x-internal", "transfer-encoding"]) {
    assert.equal(headers.has(dropped), false, dropped);
  }
  assert.deepEqual(headers.getSetCookie(), [
    "a=1; Path=/",
    "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
  ]);
});
