// Tests of the AQC simulator (dev/simulator) over real HTTP on 127.0.0.1.
// Run: deno test --allow-net=127.0.0.1 tests/simulator_test.ts

import assert from "node:assert/strict";
import {
  ConnectionResetError,
  createSimulator,
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_OFFICE_ID,
  type EchoBody,
  serveSimulator,
  type SimulatorCounters,
  TOKEN_PATH,
} from "../dev/simulator/mod.ts";
import { parseArgs } from "../dev/simulator/main.ts";

const OTHER_OFFICE = "DELAI08AA";
const AMADEUS_JSON = "application/vnd.amadeus+json";

function tokenForm(overrides: Record<string, string | null> = {}): URLSearchParams {
  const fields: Record<string, string | null> = {
    grant_type: "client_credentials",
    client_id: DEFAULT_CLIENT_ID,
    client_secret: DEFAULT_CLIENT_SECRET,
    guest_office_id: DEFAULT_OFFICE_ID,
    ...overrides,
  };
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== null) form.set(k, v);
  return form;
}

async function postToken(
  url: string,
  overrides: Record<string, string | null> = {},
  init: RequestInit = {},
): Promise<{ res: Response; text: string }> {
  const res = await fetch(`${url}${TOKEN_PATH}`, {
    method: "POST",
    body: tokenForm(overrides),
    ...init,
  });
  return { res, text: await res.text() };
}

async function getToken(url: string, officeId = DEFAULT_OFFICE_ID): Promise<string> {
  const { res, text } = await postToken(url, { guest_office_id: officeId });
  assert.equal(res.status, 200, text);
  return JSON.parse(text).access_token;
}

async function callApi(
  url: string,
  path: string,
  options: { token?: string; method?: string; body?: BodyInit; headers?: HeadersInit } = {},
): Promise<{ res: Response; json: Record<string, unknown> }> {
  const headers = new Headers(options.headers);
  if (options.token !== undefined) headers.set("authorization", `Bearer ${options.token}`);
  const res = await fetch(`${url}${path}`, {
    method: options.method ?? "GET",
    headers,
    body: options.body ?? null,
  });
  const text = await res.text();
  return { res, json: text === "" ? {} : JSON.parse(text) };
}

function firstError(json: Record<string, unknown>): Record<string, unknown> {
  const errors = json.errors;
  assert.ok(Array.isArray(errors) && errors.length > 0, JSON.stringify(json));
  return errors[0];
}

/** Resolves after `ms`, and lets a test abort a fetch at a known moment. */
function abortAfter(ms: number): { signal: AbortSignal; cancel(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  return { signal: controller.signal, cancel: () => clearTimeout(timer) };
}

async function waitFor(
  predicate: () => boolean,
  what: string,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("token endpoint issues an Amadeus-shaped token and remembers it", async () => {
  await using served = await serveSimulator();
  const { res, text } = await postToken(served.url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body), [
    "type",
    "username",
    "application_name",
    "client_id",
    "token_type",
    "access_token",
    "expires_in",
    "state",
    "scope",
    "guest_office_id",
  ]);
  assert.equal(body.type, "amadeusOAuth2Token");
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, 1799);
  assert.equal(body.state, "approved");
  assert.equal(body.client_id, DEFAULT_CLIENT_ID);
  assert.equal(body.guest_office_id, DEFAULT_OFFICE_ID);
  assert.match(body.access_token, /^[0-9A-Za-z]{28,}$/);

  const [token] = served.simulator.issuedTokens;
  assert.equal(token.accessToken, body.access_token);
  assert.equal(token.officeId, DEFAULT_OFFICE_ID);
  assert.equal(token.clientId, DEFAULT_CLIENT_ID);
  assert.equal(token.expiresAt - token.issuedAt, 1799_000);
  assert.equal(token.revoked, false);
  assert.deepEqual(served.simulator.latestToken(DEFAULT_OFFICE_ID), token);
  assert.equal(served.simulator.latestToken(OTHER_OFFICE), undefined);

  const second = await getToken(served.url);
  assert.notEqual(second, body.access_token);
  const c = served.simulator.counters;
  assert.equal(c.tokenRequests, 2);
  assert.equal(c.tokensIssued, 2);
  assert.deepEqual(c.tokenRequestsByOffice, { [DEFAULT_OFFICE_ID]: 2 });
  assert.deepEqual(c.tokenRequestsByStatus, { "200": 2 });
});

Deno.test("token endpoint errors are flat and exact", async () => {
  await using served = await serveSimulator({
    clients: {
      [DEFAULT_CLIENT_ID]: { secret: DEFAULT_CLIENT_SECRET, offices: [DEFAULT_OFFICE_ID] },
    },
  });
  const cases: [Record<string, string | null>, number, string][] = [
    [{ client_secret: "wrong" }, 401, "invalid_client"],
    [{ client_id: "nobody" }, 401, "invalid_client"],
    [{ grant_type: "password" }, 400, "unsupported_grant_type"],
    [{ grant_type: null }, 400, "invalid_request"],
    [{ client_secret: null }, 400, "invalid_request"],
    [{ guest_office_id: null }, 400, "invalid_request"],
    [{ guest_office_id: "nce" }, 400, "invalid_request"],
    [{ guest_office_id: OTHER_OFFICE }, 401, "unauthorized_client"],
  ];
  for (const [overrides, status, error] of cases) {
    const { res, text } = await postToken(served.url, overrides);
    assert.equal(res.status, status, `${JSON.stringify(overrides)}: ${text}`);
    const body = JSON.parse(text);
    assert.equal(body.error, error);
    assert.equal(body.code, 38187);
    assert.equal(body.title, "Invalid parameters");
    assert.equal(typeof body.error_description, "string");
  }
  const { text } = await postToken(served.url, { client_secret: "wrong" });
  assert.deepEqual(JSON.parse(text), {
    error: "invalid_client",
    error_description: "Client credentials are invalid",
    code: 38187,
    title: "Invalid parameters",
  });

  // A JSON body is not a form: the fields count as missing.
  const json = await fetch(`${served.url}${TOKEN_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(Object.fromEntries(tokenForm())),
  });
  assert.equal(json.status, 400);
  assert.equal((await json.json()).error, "invalid_request");

  const get = await fetch(`${served.url}${TOKEN_PATH}`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.body?.cancel();
  assert.equal(served.simulator.counters.tokensIssued, 0);
  assert.equal(served.simulator.counters.tokenRequests, cases.length + 3);
});

Deno.test("APIs reject missing, malformed, unknown, expired and revoked tokens", async () => {
  let clock = 1_000_000;
  await using served = await serveSimulator({
    now: () => clock,
    knobs: { tokenLifetimeSeconds: 60 },
  });
  const path = "/v1/echo/check";
  const cases: [HeadersInit, number][] = [
    [{}, 38191],
    [{ authorization: "Basic Zm9vOmJhcg==" }, 38191],
    [{ authorization: "Bearer" }, 38191],
    [{ authorization: "Bearer not-a-real-token" }, 38190],
  ];
  for (const [headers, code] of cases) {
    const { res, json } = await callApi(served.url, path, { headers });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("content-type"), AMADEUS_JSON);
    assert.equal(firstError(json).code, code, JSON.stringify(headers));
  }
  const unknown = await callApi(served.url, path, { token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
  assert.deepEqual(unknown.json, {
    errors: [{
      status: 401,
      code: 38190,
      title: "Invalid access token",
      detail: "The access token provided in the Authorization header is invalid",
      source: {},
    }],
  });

  const token = await getToken(served.url);
  assert.equal((await callApi(served.url, path, { token })).res.status, 200);
  // The scheme is case-insensitive, like AQC.
  const lower = await callApi(served.url, path, { headers: { authorization: `bearer ${token}` } });
  assert.equal(lower.res.status, 200);

  clock += 59_999;
  assert.equal((await callApi(served.url, path, { token })).res.status, 200);
  clock += 1;
  const expired = await callApi(served.url, path, { token });
  assert.equal(expired.res.status, 401);
  assert.equal(firstError(expired.json).code, 38192);

  const fresh = await getToken(served.url);
  assert.equal(served.simulator.revoke(fresh), true);
  assert.equal(served.simulator.revoke(fresh), false);
  const revoked = await callApi(served.url, path, { token: fresh });
  assert.equal(firstError(revoked.json).code, 38193);

  const a = await getToken(served.url);
  const b = await getToken(served.url, OTHER_OFFICE);
  // The expired first token counts too: revocation does not care about expiry.
  assert.equal(served.simulator.revokeAll(), 3);
  for (const t of [a, b]) {
    assert.equal(firstError((await callApi(served.url, path, { token: t })).json).code, 38193);
  }

  const c = await getToken(served.url);
  assert.equal(served.simulator.expire(c), true);
  assert.equal(firstError((await callApi(served.url, path, { token: c })).json).code, 38192);
  assert.equal(served.simulator.expire("nope"), false);
});

Deno.test("flight APIs answer canned, plausible data", async () => {
  await using served = await serveSimulator();
  const token = await getToken(served.url);
  const q = "originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2027-03-01&adults=2";
  const search = await callApi(served.url, `/v2/shopping/flight-offers?${q}`, { token });
  assert.equal(search.res.status, 200);
  assert.equal(search.res.headers.get("content-type"), AMADEUS_JSON);
  const data = search.json.data as Record<string, unknown>[];
  assert.equal((search.json.meta as { count: number }).count, data.length);
  assert.ok(data.length > 0);
  assert.equal(data[0].type, "flight-offer");
  assert.equal(data[0].id, "1");
  const price = data[0].price as Record<string, string>;
  assert.match(price.total, /^\d+\.\d\d$/);
  assert.equal(price.currency, "EUR");
  assert.equal((data[0].travelerPricings as unknown[]).length, 2);
  assert.ok("locations" in (search.json.dictionaries as object));
  const again = await callApi(served.url, `/v2/shopping/flight-offers?${q}`, { token });
  assert.deepEqual(again.json.data, search.json.data);

  const bad = await callApi(
    served.url,
    "/v2/shopping/flight-offers?originLocationCode=NCE&departureDate=2027-02-30&adults=1",
    { token },
  );
  assert.equal(bad.res.status, 400);
  const errors = bad.json.errors as { code: number; source: { parameter: string } }[];
  assert.deepEqual(errors.map((e) => [e.code, e.source.parameter]), [
    [32171, "destinationLocationCode"],
    [477, "departureDate"],
  ]);

  const post = await callApi(served.url, "/v2/shopping/flight-offers", {
    token,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      originDestinations: [{
        id: "1",
        originLocationCode: "NCE",
        destinationLocationCode: "LHR",
        departureDateTimeRange: { date: "2027-03-01" },
      }],
      travelers: [{ id: "1", travelerType: "ADULT" }],
      sources: ["GDS"],
      searchCriteria: { maxFlightOffers: 5 },
    }),
  });
  assert.equal(post.res.status, 200);
  const offers = post.json.data as Record<string, unknown>[];
  assert.equal(offers.length, 5);

  const priced = await callApi(served.url, "/v1/shopping/flight-offers/pricing", {
    token,
    method: "POST",
    body: JSON.stringify({ data: { type: "flight-offers-pricing", flightOffers: [offers[0]] } }),
  });
  assert.equal(priced.res.status, 200);
  const pricing = priced.json.data as { type: string; flightOffers: { id: string }[] };
  assert.equal(pricing.type, "flight-offers-pricing");
  assert.equal(pricing.flightOffers[0].id, offers[0].id);

  const created = await callApi(served.url, "/v1/booking/flight-orders", {
    token,
    method: "POST",
    body: JSON.stringify({
      data: {
        type: "flight-order",
        flightOffers: [offers[0]],
        travelers: [{ id: "1", name: { firstName: "ADA", lastName: "LOVELACE" } }],
      },
    }),
  });
  assert.equal(created.res.status, 201);
  const order = created.json.data as { id: string; type: string; queuingOfficeId: string };
  assert.equal(order.type, "flight-order");
  assert.equal(order.queuingOfficeId, DEFAULT_OFFICE_ID);
  const location = created.res.headers.get("location");
  assert.equal(location, `${served.url}/v1/booking/flight-orders/${order.id}`);

  const read = await callApi(served.url, `/v1/booking/flight-orders/${order.id}`, { token });
  assert.equal(read.res.status, 200);
  assert.equal((read.json.data as { id: string }).id, order.id);
  const otherToken = await getToken(served.url, OTHER_OFFICE);
  const foreign = await callApi(served.url, `/v1/booking/flight-orders/${order.id}`, {
    token: otherToken,
  });
  assert.equal(foreign.res.status, 404);
  const path = `/v1/booking/flight-orders/${order.id}`;
  assert.equal((await callApi(served.url, path, { token, method: "DELETE" })).res.status, 204);
  assert.equal((await callApi(served.url, path, { token })).res.status, 404);

  const invalid = await callApi(served.url, "/v1/booking/flight-orders", {
    token,
    method: "POST",
    body: "{not json",
  });
  assert.equal(invalid.res.status, 400);
  assert.equal(firstError(invalid.json).code, 477);

  const missing = await callApi(served.url, "/v3/nothing/here", { token });
  assert.equal(missing.res.status, 404);
  assert.equal(missing.res.headers.get("content-type"), AMADEUS_JSON);
  assert.deepEqual(firstError(missing.json), {
    status: 404,
    code: 38196,
    title: "Resource not found",
    detail: "The targeted resource doesn't exist",
    source: {},
  });
});

Deno.test("echo API reports exactly what arrived", async () => {
  await using served = await serveSimulator();
  const token = await getToken(served.url, OTHER_OFFICE);
  const headers = new Headers({ authorization: `Bearer ${token}`, "X-Custom": "one" });
  headers.append("x-custom", "two");
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  const res = await fetch(`${served.url}/v1/echo/a/b%20c?x=1&y=2&x=3&empty=`, {
    method: "PATCH",
    headers,
    body: bytes,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-sim-echo"), "1");
  const echo: EchoBody = await res.json();
  assert.equal(echo.method, "PATCH");
  assert.equal(echo.path, "/v1/echo/a/b%20c");
  assert.deepEqual(echo.query, { x: ["1", "3"], y: "2", empty: "" });
  assert.equal(echo.search, "?x=1&y=2&x=3&empty=");
  assert.equal(echo.headers["x-custom"], "one, two");
  assert.equal(echo.headers.authorization, `Bearer ${token}`);
  assert.equal(echo.headers["content-length"], "5");
  assert.deepEqual(Uint8Array.from(atob(echo.bodyBase64), (ch) => ch.charCodeAt(0)), bytes);
  assert.equal(echo.office, OTHER_OFFICE);
  assert.equal(echo.clientId, DEFAULT_CLIENT_ID);

  const text = await callApi(served.url, "/v1/echo/", {
    token,
    method: "POST",
    body: "héllo",
    headers: { "x-sim-echo-status": "418" },
  });
  assert.equal(text.res.status, 418);
  assert.equal(text.json.body, "héllo");
});

Deno.test("knobs: lifetime, content type, body overrides and latency", async () => {
  await using served = await serveSimulator({ knobs: { tokenLifetimeSeconds: 42 } });
  const sim = served.simulator;
  let { text } = await postToken(served.url);
  assert.equal(JSON.parse(text).expires_in, 42);

  sim.configure({
    contentType: "application/json; charset=utf-8",
    tokenBodyOverrides: { token_type: "bearer", state: null, extra: 1 },
  });
  const r = await postToken(served.url);
  assert.equal(r.res.headers.get("content-type"), "application/json; charset=utf-8");
  const body = JSON.parse(r.text);
  assert.equal(body.token_type, "bearer");
  assert.equal("state" in body, false);
  assert.equal(body.extra, 1);
  // The token is still issued and usable.
  assert.equal(
    (await callApi(served.url, "/v1/echo/x", { token: body.access_token })).res.status,
    200,
  );

  // null restores one knob to its default; absent keys keep their value.
  sim.configure({ tokenLifetimeSeconds: null, tokenBodyOverrides: null });
  assert.equal(sim.knobs.tokenLifetimeSeconds, 1799);
  assert.equal(sim.knobs.contentType, "application/json; charset=utf-8");
  ({ text } = await postToken(served.url));
  assert.equal(JSON.parse(text).expires_in, 1799);

  sim.configure({ tokenLatencyMs: 80, apiLatencyMs: 60 });
  let t0 = performance.now();
  const token = await getToken(served.url);
  assert.ok(performance.now() - t0 >= 75, "token latency applied");
  t0 = performance.now();
  await callApi(served.url, "/v1/echo/x", { token });
  assert.ok(performance.now() - t0 >= 55, "api latency applied");
});

Deno.test("knobs: token failures, remaining budget and office filter", async () => {
  await using served = await serveSimulator();
  const sim = served.simulator;

  sim.configure({ tokenFailure: { mode: "status", status: 503, remaining: 2 } });
  for (let i = 0; i < 2; i++) {
    const { res, text } = await postToken(served.url);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), AMADEUS_JSON);
    assert.equal(JSON.parse(text).errors[0].status, 503);
  }
  assert.equal(sim.knobs.tokenFailure, null, "budget spent clears the knob");
  assert.equal((await postToken(served.url)).res.status, 200);

  sim.configure({
    tokenFailure: {
      mode: "status",
      status: 502,
      body: "<html>bad</html>",
      contentType: "text/html",
    },
  });
  let r = await postToken(served.url);
  assert.equal(r.res.status, 502);
  assert.equal(r.res.headers.get("content-type"), "text/html");
  assert.equal(r.text, "<html>bad</html>");

  sim.configure({ tokenFailure: { mode: "rate_limited", retryAfterSeconds: 7 } });
  r = await postToken(served.url);
  assert.equal(r.res.status, 429);
  assert.equal(r.res.headers.get("retry-after"), "7");
  assert.deepEqual(JSON.parse(r.text).errors[0], {
    status: 429,
    code: 38194,
    title: "Too many requests",
    detail: "The network rate limit is exceeded, please try again later",
    source: {},
  });

  sim.configure({ tokenFailure: { mode: "malformed", body: '{"access_token":', status: 200 } });
  r = await postToken(served.url);
  assert.equal(r.res.status, 200);
  assert.equal(r.res.headers.get("content-type"), "application/json");
  assert.equal(r.text, '{"access_token":');

  sim.configure({ tokenFailure: { mode: "invalid_client" } });
  r = await postToken(served.url);
  assert.equal(r.res.status, 401);
  assert.equal(JSON.parse(r.text).error, "invalid_client");

  sim.configure({ tokenFailure: { mode: "status", status: 500, offices: [OTHER_OFFICE] } });
  assert.equal((await postToken(served.url)).res.status, 200);
  assert.equal((await postToken(served.url, { guest_office_id: OTHER_OFFICE })).res.status, 500);

  assert.equal(sim.counters.tokenFaultsInjected, 7);
  assert.deepEqual(sim.counters.tokenRequestsByStatus, {
    "200": 3,
    "401": 1,
    "429": 1,
    "500": 1,
    "502": 1,
    "503": 2,
  });
});

Deno.test("knobs: tokenResponder overrides the endpoint and can issue real tokens", async () => {
  await using served = await serveSimulator();
  const seen: string[] = [];
  served.simulator.configure({
    tokenResponder: async (request, ctx) => {
      seen.push(`${request.method} ${(await request.text()).length > 0} ${ctx.officeId}`);
      if (ctx.officeId === OTHER_OFFICE) return undefined;
      const token = ctx.issueToken({ lifetimeSeconds: 5 });
      return Response.json({
        access_token: token.accessToken,
        token_type: "Bearer",
        expires_in: 5,
      });
    },
  });
  const custom = JSON.parse((await postToken(served.url)).text);
  assert.deepEqual(Object.keys(custom), ["access_token", "token_type", "expires_in"]);
  const echo = await callApi(served.url, "/v1/echo/x", { token: custom.access_token });
  assert.equal(echo.res.status, 200);
  assert.equal(echo.json.office, DEFAULT_OFFICE_ID);
  const normal = JSON.parse((await postToken(served.url, { guest_office_id: OTHER_OFFICE })).text);
  assert.equal(normal.type, "amadeusOAuth2Token");
  assert.deepEqual(seen, [`POST true ${DEFAULT_OFFICE_ID}`, `POST true ${OTHER_OFFICE}`]);
  assert.equal(served.simulator.counters.tokensIssued, 2);
});

Deno.test("knobs: API failures", async () => {
  await using served = await serveSimulator();
  const sim = served.simulator;
  const token = await getToken(served.url);
  const other = await getToken(served.url, OTHER_OFFICE);

  sim.configure({ apiFailure: { mode: "rate_limited", retryAfterSeconds: 3, remaining: 1 } });
  let r = await callApi(served.url, "/v1/echo/x", { token });
  assert.equal(r.res.status, 429);
  assert.equal(r.res.headers.get("retry-after"), "3");
  assert.equal(firstError(r.json).code, 38194);
  assert.equal((await callApi(served.url, "/v1/echo/x", { token })).res.status, 200);

  sim.configure({ apiFailure: { mode: "status", status: 500, offices: [OTHER_OFFICE] } });
  assert.equal((await callApi(served.url, "/v1/echo/x", { token })).res.status, 200);
  r = await callApi(served.url, "/v1/echo/x", { token: other });
  assert.equal(r.res.status, 500);
  assert.equal(firstError(r.json).code, 38189);

  sim.configure({ apiFailure: { mode: "invalid_token", remaining: 1 } });
  r = await callApi(served.url, "/v1/echo/x", { token });
  assert.equal(r.res.status, 401);
  assert.equal(firstError(r.json).code, 38190);
  assert.equal((await callApi(served.url, "/v1/echo/x", { token })).res.status, 200);

  sim.configure({ apiFailure: { mode: "reset", remaining: 1 } });
  await assert.rejects(fetch(`${served.url}/v1/echo/x`), TypeError);
  assert.equal((await callApi(served.url, "/v1/echo/x", { token })).res.status, 200);

  const c = sim.counters;
  assert.equal(c.apiFaultsInjected, 4);
  assert.equal(c.apiLog.at(-2)?.outcome, "reset");
});

Deno.test("knobs are validated, programmatically and over HTTP", async () => {
  await using served = await serveSimulator();
  const sim = served.simulator;
  const bad: unknown[] = [
    { tokenLatencyMs: -1 },
    { tokenLifetimeSeconds: "10" },
    { tokenFailure: { mode: "explode" } },
    { tokenFailure: { mode: "status" } },
    { tokenFailure: { mode: "invalid_token" } },
    { apiFailure: { mode: "invalid_client" } },
    { apiFailure: { mode: "hang", remaining: 1.5 } },
    { tokenFailure: { mode: "malformed" } },
    { nonsense: true },
  ];
  for (const knobs of bad) {
    assert.throws(() => sim.configure(knobs as never), TypeError, JSON.stringify(knobs));
    const res = await fetch(`${served.url}/__sim/configure`, {
      method: "POST",
      body: JSON.stringify(knobs),
    });
    assert.equal(res.status, 400, JSON.stringify(knobs));
    assert.equal(typeof (await res.json()).error, "string");
  }
  assert.deepEqual(sim.knobs.tokenFailure, null);
});

Deno.test("hang: the client gives up and the server-side request ends", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "hang" }, apiFailure: { mode: "hang" } },
  });
  const sim = served.simulator;
  const timeout = abortAfter(100);
  await assert.rejects(postToken(served.url, {}, { signal: timeout.signal }), (e: unknown) => {
    return e instanceof DOMException && e.name === "AbortError";
  });
  timeout.cancel();
  await waitFor(() => sim.counters.tokenRequestsInFlight === 0, "the hang to end");
  assert.equal(sim.counters.tokenLog[0].outcome, "aborted");
  assert.equal(sim.counters.maxTokenRequestsInFlight, 1);

  const apiTimeout = abortAfter(50);
  await assert.rejects(fetch(`${served.url}/v1/echo/x`, { signal: apiTimeout.signal }));
  apiTimeout.cancel();
  await waitFor(() => sim.counters.apiRequestsInFlight === 0, "the API hang to end");
  assert.equal(sim.counters.apiLog[0].outcome, "aborted");
});

Deno.test("hang: close() drops hung requests and returns promptly", async () => {
  const served = await serveSimulator({ knobs: { tokenFailure: { mode: "hang" } } });
  const pending = postToken(served.url);
  await waitFor(() => served.simulator.counters.tokenRequestsInFlight === 1, "the request");
  const t0 = performance.now();
  await served.close();
  assert.ok(performance.now() - t0 < 1000);
  await assert.rejects(pending, TypeError);
  assert.equal(served.simulator.counters.tokenLog[0].outcome, "reset");
  await served.close(); // idempotent
});

Deno.test("hang: releasePending() drops hung requests; the simulator keeps serving", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "hang", remaining: 1 } },
  });
  const pending = postToken(served.url);
  await waitFor(() => served.simulator.counters.tokenRequestsInFlight === 1, "the request");
  served.simulator.releasePending();
  await assert.rejects(pending, TypeError);
  assert.equal((await postToken(served.url)).res.status, 200);
});

Deno.test("reset: the connection is dropped and the next request succeeds", async () => {
  await using served = await serveSimulator();
  served.simulator.configure({ tokenFailure: { mode: "reset", remaining: 1 } });
  await assert.rejects(postToken(served.url), TypeError);
  assert.equal(served.simulator.counters.tokenLog[0].outcome, "reset");
  assert.equal((await postToken(served.url)).res.status, 200);
  assert.deepEqual(served.simulator.counters.tokenRequestsByStatus, { "200": 1 });

  // On a warm keep-alive connection too, the client sees exactly one failure (no silent
  // retry by fetch), and exactly one request reached the simulator.
  served.simulator.configure({ tokenFailure: { mode: "reset", remaining: 1 } });
  await assert.rejects(postToken(served.url), TypeError);
  assert.equal((await postToken(served.url)).res.status, 200);
  assert.equal(served.simulator.counters.tokenRequests, 4);
});

Deno.test("reset without the TCP relay is approximated by an empty 502", async () => {
  await using served = await serveSimulator({
    connectionResets: false,
    knobs: { tokenFailure: { mode: "reset", remaining: 1 } },
  });
  const { res, text } = await postToken(served.url);
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-sim-reset"), "1");
  assert.equal(text, "");
  assert.equal((await postToken(served.url)).res.status, 200);
});

Deno.test("concurrency gauges count overlapping token requests", async () => {
  await using served = await serveSimulator({ knobs: { tokenLatencyMs: 100 } });
  await Promise.all(Array.from({ length: 5 }, () => getToken(served.url)));
  const c = served.simulator.counters;
  assert.equal(c.maxTokenRequestsInFlight, 5);
  assert.equal(c.tokenRequestsInFlight, 0);
  assert.equal(c.tokensIssued, 5);
});

Deno.test("counters and bounded logs; the secret never appears", async () => {
  await using served = await serveSimulator({ logSize: 3 });
  const sim = served.simulator;
  const token = await getToken(served.url);
  const other = await getToken(served.url, OTHER_OFFICE);
  await postToken(served.url, { client_secret: "wrong-secret-also-hidden" });
  for (let i = 0; i < 4; i++) {
    await callApi(served.url, `/v1/echo/${i}`, {
      token: i < 3 ? token : other,
      method: "POST",
      body: `body-${i}`,
      headers: { "x-trace": String(i) },
    });
  }
  await callApi(served.url, "/v1/echo/none");
  const c: SimulatorCounters = sim.counters;
  assert.equal(c.apiRequests, 5);
  assert.deepEqual(c.apiRequestsByStatus, { "200": 4, "401": 1 });
  assert.deepEqual(c.apiRequestsByToken, { [token]: 3, [other]: 1 });
  assert.deepEqual(c.apiRequestsByOffice, { [DEFAULT_OFFICE_ID]: 3, [OTHER_OFFICE]: 1 });
  assert.equal(c.maxApiRequestsInFlight, 1);
  assert.deepEqual(c.apiLog.map((e) => e.path), ["/v1/echo/2", "/v1/echo/3", "/v1/echo/none"]);
  const entry = c.apiLog[1];
  assert.equal(entry.method, "POST");
  assert.equal(entry.body, "body-3");
  assert.equal(entry.headers["x-trace"], "3");
  assert.equal(entry.accessToken, other);
  assert.equal(entry.officeId, OTHER_OFFICE);
  assert.equal(entry.status, 200);
  assert.equal(entry.url, `${served.url}/v1/echo/3`);
  assert.equal(c.tokenLog.length, 3);
  assert.equal(c.tokenLog[0].accessToken, token);
  assert.equal(c.tokenLog[2].status, 401);
  assert.equal(c.tokenLog[2].clientId, DEFAULT_CLIENT_ID);

  const everything = JSON.stringify([c, sim.issuedTokens, sim.knobs]);
  assert.equal(everything.includes(DEFAULT_CLIENT_SECRET), false);
  assert.equal(everything.includes("wrong-secret-also-hidden"), false);
  const overHttp = await (await fetch(`${served.url}/__sim/counters`)).text();
  assert.equal(overHttp.includes(DEFAULT_CLIENT_SECRET), false);

  // Snapshots are detached copies.
  c.apiLog.length = 0;
  c.tokenRequests = 99;
  assert.equal(sim.counters.apiLog.length, 3);
  assert.equal(sim.counters.tokenRequests, 3);
});

Deno.test("reset() returns to the creation state", async () => {
  await using served = await serveSimulator({ knobs: { tokenLifetimeSeconds: 30 } });
  const sim = served.simulator;
  const token = await getToken(served.url);
  sim.configure({ tokenLifetimeSeconds: 99, tokenFailure: { mode: "status", status: 500 } });
  sim.reset();
  assert.equal(sim.knobs.tokenLifetimeSeconds, 30);
  assert.equal(sim.knobs.tokenFailure, null);
  assert.equal(sim.counters.tokenRequests, 0);
  assert.deepEqual(sim.issuedTokens, []);
  const { json } = await callApi(served.url, "/v1/echo/x", { token });
  assert.equal(firstError(json).code, 38190);
});

Deno.test("control routes under /__sim/", async () => {
  await using served = await serveSimulator();
  const sim = served.simulator;
  const post = (route: string, body?: unknown) =>
    fetch(`${served.url}/__sim/${route}`, {
      method: "POST",
      body: body === undefined ? null : JSON.stringify(body),
    });

  let res = await post("configure", {
    tokenLatencyMs: 5,
    tokenFailure: { mode: "status", status: 503, remaining: 1 },
  });
  assert.equal(res.status, 200);
  const knobs = await res.json();
  assert.equal(knobs.tokenLatencyMs, 5);
  assert.equal(knobs.tokenResponder, false);
  assert.equal(sim.knobs.tokenFailure?.mode, "status");
  assert.equal((await postToken(served.url)).res.status, 503);

  const token = await getToken(served.url);
  res = await fetch(`${served.url}/__sim/tokens`);
  assert.deepEqual((await res.json()).map((t: { accessToken: string }) => t.accessToken), [token]);
  res = await fetch(`${served.url}/__sim/counters`);
  assert.equal((await res.json()).tokenRequests, 2);
  res = await fetch(`${served.url}/__sim/knobs`);
  assert.equal((await res.json()).tokenLatencyMs, 5);

  res = await post("revoke", { accessToken: token });
  assert.deepEqual(await res.json(), { revoked: true });
  res = await post("revoke", {});
  assert.equal(res.status, 400);
  await res.body?.cancel();
  await getToken(served.url);
  res = await post("revoke-all");
  assert.deepEqual(await res.json(), { revoked: 1 });
  const fresh = await getToken(served.url);
  res = await post("expire", { accessToken: fresh });
  assert.deepEqual(await res.json(), { expired: true });
  res = await post("configure", { tokenResponder: "x" });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  res = await post("configure", "{oops");
  assert.equal(res.status, 400);
  await res.body?.cancel();

  res = await post("reset");
  assert.deepEqual(await res.json(), { ok: true });
  assert.equal(sim.counters.tokenRequests, 0);
  assert.equal(sim.knobs.tokenLatencyMs, 0);
  res = await post("release");
  assert.equal(res.status, 200);
  await res.body?.cancel();

  res = await fetch(`${served.url}/__sim/counters`, { method: "DELETE" });
  assert.equal(res.status, 405);
  await res.body?.cancel();
  res = await fetch(`${served.url}/__sim/whatever`);
  assert.equal(res.status, 404);
  await res.body?.cancel();
  // Control requests are not API requests.
  assert.equal(sim.counters.apiRequests, 0);
});

Deno.test("in-process fetch: injectable as fetch, resets reject, aborts reject", async () => {
  const sim = createSimulator();
  const res = await sim.fetch(TOKEN_PATH, { method: "POST", body: tokenForm() });
  const token = (await res.json()).access_token;
  const echo = await sim.fetch(
    new Request("http://aqc.test/v1/echo/x?q=1", { headers: { authorization: `Bearer ${token}` } }),
  );
  const body: EchoBody = await echo.json();
  assert.equal(body.url, "http://aqc.test/v1/echo/x?q=1");

  const asFetch: typeof fetch = sim.fetch;
  sim.configure({ tokenFailure: { mode: "reset", remaining: 1 } });
  await assert.rejects(
    asFetch(`http://aqc.test${TOKEN_PATH}`, { method: "POST", body: tokenForm() }),
    ConnectionResetError,
  );

  sim.configure({ tokenFailure: { mode: "hang" } });
  const controller = new AbortController();
  const pending = sim.fetch(TOKEN_PATH, {
    method: "POST",
    body: tokenForm(),
    signal: controller.signal,
  });
  controller.abort(new Error("gave up"));
  await assert.rejects(pending, /gave up/);

  const hung = sim.fetch(TOKEN_PATH, { method: "POST", body: tokenForm() });
  sim.releasePending();
  await assert.rejects(hung, ConnectionResetError);
  assert.equal(sim.counters.tokenRequestsInFlight, 0);
});

Deno.test("main.ts argument parsing", () => {
  assert.deepEqual(parseArgs([]), { port: 0, hostname: "127.0.0.1" });
  assert.deepEqual(parseArgs(["--port", "8787"]), { port: 8787, hostname: "127.0.0.1" });
  assert.deepEqual(parseArgs(["--port=9", "--hostname=0.0.0.0"]), { port: 9, hostname: "0.0.0.0" });
  assert.equal(parseArgs(["--help"]), "help");
  assert.ok("error" in (parseArgs(["--port", "x"]) as object));
  assert.ok("error" in (parseArgs(["--bogus"]) as object));
});

Deno.test("simulator: API answers compressed as asked, like AQC; not when told not to", async () => {
  await using served = await serveSimulator();
  const token = (await createTokenVia(served.url)).access_token;
  const get = (encoding: string) =>
    fetch(`${served.url}/v1/echo/x`, {
      headers: { authorization: `Bearer ${token}`, "accept-encoding": encoding },
    });
  // Deno's fetch decodes and keeps the label: the label says what was on the wire.
  const expectations: [string, string | null][] = [
    ["gzip", "gzip"],
    ["br", "br"],
    ["gzip, br", "br"],
    ["br;q=0, gzip", "gzip"],
    ["identity", null],
    ["deflate", null],
  ];
  for (const [encoding, label] of expectations) {
    const res = await get(encoding);
    assert.equal(res.headers.get("content-encoding"), label, encoding);
    const echo = await res.json() as EchoBody;
    assert.equal(echo.headers["accept-encoding"], encoding);
  }
  served.simulator.configure({ compression: false });
  const plain = await get("gzip");
  assert.equal(plain.headers.get("content-encoding"), null);
  await plain.body?.cancel();
  assert.throws(() => served.simulator.configure({ compression: "yes" as unknown as boolean }));
});

Deno.test("simulator: 401s say whether they are about the token; 503s carry Retry-After", async () => {
  await using served = await serveSimulator();
  const token = (await createTokenVia(served.url)).access_token;
  const call = () =>
    fetch(`${served.url}/v1/echo/x`, {
      headers: { authorization: `Bearer ${token}`, "accept-encoding": "identity" },
    });
  served.simulator.revoke(token);
  let res = await call();
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="AQC", error="invalid_token"');
  assert.equal((await res.json()).errors[0].code, 38193);
  const missing = await fetch(`${served.url}/v1/echo/x`);
  assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="AQC"');
  await missing.body?.cancel();

  served.simulator.configure({
    apiFailure: { mode: "unauthorized", challenge: 'Bearer error="insufficient_scope"' },
  });
  res = await call();
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Bearer error="insufficient_scope"');
  assert.equal((await res.json()).errors[0].code, 38197);

  served.simulator.configure({ apiFailure: { mode: "status", status: 503 } });
  res = await call();
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
  await res.body?.cancel();
  served.simulator.configure({ tokenFailure: { mode: "status", status: 503 } });
  const token503 = await postToken(served.url);
  assert.equal(token503.res.status, 503);
  assert.equal(token503.res.headers.get("retry-after"), "1");
});

async function createTokenVia(url: string): Promise<{ access_token: string }> {
  const { res, text } = await postToken(url);
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}
