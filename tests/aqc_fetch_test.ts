/**
 * createAqcFetch against the AQC simulator over real HTTP on loopback.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, createAqcFetch, TokenManager, type TokenTiming } from "../src/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type EchoBody,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

function setup(served: ServedSimulator, timeoutMs?: number) {
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    retryBaseDelayMs: 10,
    retryDeadlineMs: 500,
  });
  return { tokens, aqc: createAqcFetch({ tokens, ...(timeoutMs ? { timeoutMs } : {}) }) };
}

function codeOf(error: unknown): string | undefined {
  return error instanceof AqcError ? error.code : undefined;
}

Deno.test("aqcFetch sets the bearer and passes path, query, body and headers through", async () => {
  await using served = await serveSimulator();
  const { aqc } = setup(served);
  const timings: TokenTiming[] = [];
  const response = await aqc(OFFICE, "/v1/echo/orders?x=1&x=2&q=caf%C3%A9", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-trace": "abc",
      authorization: "Bearer caller-key",
    },
    body: JSON.stringify({ hello: "Zürich ✈" }),
    onToken: (t) => timings.push(t),
  });
  assert.equal(response.status, 200);
  const echo = await response.json() as EchoBody;
  assert.equal(echo.method, "POST");
  assert.equal(echo.path, "/v1/echo/orders");
  assert.equal(echo.search, "?x=1&x=2&q=caf%C3%A9");
  assert.equal(echo.body, JSON.stringify({ hello: "Zürich ✈" }));
  assert.equal(echo.headers["content-type"], "application/json");
  assert.equal(echo.headers["x-trace"], "abc");
  assert.equal(
    echo.headers.authorization,
    `Bearer ${served.simulator.latestToken(OFFICE)?.accessToken}`,
  );
  assert.equal(echo.office, OFFICE);
  assert.deepEqual(timings.map((t) => [t.source, t.replay]), [["endpoint", false]]);
});

Deno.test("a 401 refreshes once and replays the same body once", async () => {
  await using served = await serveSimulator();
  const { aqc, tokens } = setup(served);
  const first = await tokens.getToken(OFFICE);
  served.simulator.revoke(first.accessToken);
  const body = new TextEncoder().encode("binary\u0000body ✈".repeat(100));
  const timings: TokenTiming[] = [];
  const response = await aqc(OFFICE, "/v1/echo/replay", {
    method: "PUT",
    body: new Blob([body]).stream(),
    onToken: (t) => timings.push(t),
  });
  assert.equal(response.status, 200);
  const echo = await response.json() as EchoBody;
  assert.deepEqual(Uint8Array.from(atob(echo.bodyBase64), (c) => c.charCodeAt(0)), body);
  const counters = served.simulator.counters;
  assert.equal(counters.apiRequests, 2);
  assert.equal(counters.apiRequestsByStatus["401"], 1);
  assert.equal(counters.tokenRequests, 2);
  const log = counters.apiLog;
  assert.equal(log[0].accessToken, first.accessToken);
  assert.notEqual(log[1].accessToken, first.accessToken);
  assert.equal(log[0].body, log[1].body);
  assert.deepEqual(timings.map((t) => t.replay), [false, true]);
});

Deno.test("a second 401 is returned as it is, never retried again", async () => {
  await using served = await serveSimulator({ knobs: { apiFailure: { mode: "invalid_token" } } });
  const { aqc } = setup(served);
  const response = await aqc(OFFICE, "/v1/echo/x", { method: "POST", body: "payload" });
  assert.equal(response.status, 401);
  const body = await response.json();
  assert.equal(body.errors[0].code, 38190);
  assert.equal(served.simulator.counters.apiRequests, 2);
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("concurrent 401s on the same token cause one refresh", async () => {
  await using served = await serveSimulator();
  const { aqc, tokens } = setup(served);
  const first = await tokens.getToken(OFFICE);
  served.simulator.revoke(first.accessToken);
  const responses = await Promise.all(Array.from({ length: 50 }, () => aqc(OFFICE, "/v1/echo/c")));
  assert.ok(responses.every((r) => r.status === 200));
  await Promise.all(responses.map((r) => r.body?.cancel()));
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("no token, no request: token errors are thrown, AQC is never called", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "status", status: 503 } },
  });
  const { aqc } = setup(served);
  await assert.rejects(
    aqc(OFFICE, "/v1/echo/x"),
    (e) => codeOf(e) === "token_endpoint_unavailable",
  );
  await assert.rejects(aqc("nope", "/v1/echo/x"), (e) => codeOf(e) === "office_invalid");
  await assert.rejects(aqc(OFFICE, "/v1/../x"), (e) => codeOf(e) === "path_invalid");
  assert.equal(served.simulator.counters.apiRequests, 0);
});

Deno.test("after a 401 with the token endpoint down, the token error is thrown", async () => {
  await using served = await serveSimulator();
  const { aqc, tokens } = setup(served);
  const first = await tokens.getToken(OFFICE);
  served.simulator.revoke(first.accessToken);
  served.simulator.configure({ tokenFailure: { mode: "status", status: 500 } });
  await assert.rejects(
    aqc(OFFICE, "/v1/echo/x"),
    (e) => codeOf(e) === "token_endpoint_unavailable",
  );
  assert.equal(served.simulator.counters.apiRequests, 1);
});

Deno.test("upstream timeout and unreachable upstream are typed errors", async () => {
  await using served = await serveSimulator({ knobs: { apiFailure: { mode: "hang" } } });
  const { aqc } = setup(served, 200);
  await assert.rejects(aqc(OFFICE, "/v1/echo/x"), (e) => codeOf(e) === "upstream_timeout");
  served.simulator.configure({ apiFailure: { mode: "reset" } });
  await assert.rejects(aqc(OFFICE, "/v1/echo/x"), (e) => codeOf(e) === "upstream_unreachable");
});

Deno.test("upstream error answers pass through unchanged", async () => {
  await using served = await serveSimulator({
    knobs: {
      apiFailure: {
        mode: "status",
        status: 500,
        body: '{"errors":[{"code":141}]}',
        headers: { "x-amadeus": "1" },
      },
    },
  });
  const { aqc } = setup(served);
  const response = await aqc(OFFICE, "/v2/shopping/flight-offers?originLocationCode=NCE");
  assert.equal(response.status, 500);
  assert.equal(response.headers.get("x-amadeus"), "1");
  assert.equal(await response.text(), '{"errors":[{"code":141}]}');
});

Deno.test("flight offers search through aqcFetch", async () => {
  await using served = await serveSimulator();
  const { aqc } = setup(served);
  const response = await aqc(
    OFFICE,
    "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1",
  );
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.ok(body.data.length > 0);
  assert.equal(body.data[0].type, "flight-offer");
});
