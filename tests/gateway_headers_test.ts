/**
 * The gateway's header allowlists: one pass each way, only what AQC and callers need.
 *
 * @module
 */
import assert from "node:assert/strict";
import { forwardRequestHeaders, forwardResponseHeaders } from "../src/gateway/headers.ts";

Deno.test("request: only end-to-end headers AQC uses cross; identity, proxy and cookie headers stay behind", () => {
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
      "accept-encoding": "gzip",
      "accept-language": "fr-FR",
      "content-type": "application/vnd.amadeus+json",
      "if-none-match": '"abc"',
      "if-modified-since": "Wed, 21 Oct 2026 07:28:00 GMT",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "congo=t61rcWkgMzE",
      "ama-client-ref": "booking-42",
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "http",
      forwarded: "for=203.0.113.7",
      "x-real-ip": "203.0.113.7",
      via: "1.1 proxy",
      "max-forwards": "0",
      "x-http-method-override": "DELETE",
      "x-method-override": "DELETE",
      cookie: "session=1",
      "x-trace": "abc",
      "x-request-id": "caller-id",
    }),
  );
  assert.deepEqual(Object.fromEntries(pairs), {
    accept: "application/json",
    "accept-language": "fr-FR",
    "ama-client-ref": "booking-42",
    "content-type": "application/vnd.amadeus+json",
    "if-modified-since": "Wed, 21 Oct 2026 07:28:00 GMT",
    "if-none-match": '"abc"',
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    tracestate: "congo=t61rcWkgMzE",
  });
});

Deno.test("response: representation, caching and ama-* headers cross; cookies, CORS and infrastructure do not", () => {
  const upstream = new Headers([
    ["content-type", "application/vnd.amadeus+json"],
    ["content-length", "42"],
    ["cache-control", "private, max-age=60"],
    ["etag", 'W/"1"'],
    ["last-modified", "Wed, 21 Oct 2026 07:28:00 GMT"],
    ["retry-after", "3"],
    ["vary", "Accept-Encoding"],
    ["www-authenticate", 'Bearer error="invalid_token"'],
    ["ama-request-id", "0001AB"],
    ["set-cookie", "a=1; Path=/"],
    ["set-cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"],
    ["access-control-allow-origin", "*"],
    ["access-control-allow-credentials", "true"],
    ["connection", "close, x-internal"],
    ["x-internal", "1"],
    ["transfer-encoding", "chunked"],
    ["x-request-id", "r1"],
    ["server", "apigee"],
    ["strict-transport-security", "max-age=1"],
  ]);
  const headers = new Headers(forwardResponseHeaders(upstream));
  for (
    const kept of [
      "content-type",
      "content-length",
      "cache-control",
      "etag",
      "last-modified",
      "retry-after",
      "vary",
      "www-authenticate",
      "ama-request-id",
    ]
  ) {
    assert.equal(headers.get(kept), upstream.get(kept), kept);
  }
  for (
    const dropped of [
      "set-cookie",
      "access-control-allow-origin",
      "access-control-allow-credentials",
      "connection",
      "x-internal",
      "transfer-encoding",
      "x-request-id",
      "server",
      "strict-transport-security",
    ]
  ) {
    assert.equal(headers.has(dropped), false, dropped);
  }
});
