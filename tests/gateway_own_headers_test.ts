/**
 * The security headers of the gateway's own routes (`src/gateway/own_headers.ts`): exactly the
 * ones Hono's `secureHeaders()` sets with its defaults (which the gateway used before), on every
 * own answer, refusals included, and on nothing that is AQC's.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Hono } from "@hono/hono";
import { secureHeaders } from "@hono/hono/secure-headers";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { createGateway, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";

const NCE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

/** The headers the gateway's own answers carry, written out: a change here is deliberate. */
const EXPECTED: [string, string][] = [
  ["cross-origin-opener-policy", "same-origin"],
  ["cross-origin-resource-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "no-referrer"],
  ["strict-transport-security", "max-age=15552000; includeSubDomains"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-frame-options", "SAMEORIGIN"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];
const NAMES = new Set(EXPECTED.map(([name]) => name));

/**
 * The security headers of `response`: those of the expected set, and any other of their kind.
 * (`/status` sets its own `Content-Security-Policy`, checked by status_page_test.ts.)
 */
function securityHeaders(response: Response): [string, string][] {
  const found: [string, string][] = [];
  response.headers.forEach((value, name) => {
    if (NAMES.has(name) || /^(cross-origin|x-|permissions-policy|report)/.test(name)) {
      if (name !== "x-request-id") found.push([name, value]);
    }
  });
  return found.sort(([a], [b]) => a < b ? -1 : 1);
}

Deno.test("Hono's secureHeaders() defaults are the list the gateway sets (the oracle)", async () => {
  const app = new Hono();
  app.get("/", secureHeaders(), (c) => {
    c.header("x-powered-by", "someone");
    return c.text("ok");
  });
  const response = await app.request("/");
  assert.deepEqual(securityHeaders(response), EXPECTED);
  assert.equal(response.headers.has("x-powered-by"), false);
});

Deno.test("the gateway's own routes carry exactly those headers; proxied and unknown paths none", async () => {
  await using sim = await serveSimulator();
  const admin = await generateGatewayKey("ops", ["*"]);
  const web = await generateGatewayKey("web", ["*"]);
  const app = createGateway(
    loadConfig({
      AQC_API_URL: sim.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([{ ...admin.entry, admin: true }, web.entry]),
      AQC_EXPOSE_TOKENS: "true",
    }),
    { log: () => {} },
  );
  const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
  const own: [string, RequestInit, number][] = [
    ["/healthz", {}, 200],
    ["/readyz", {}, 200],
    ["/status", as(admin.key), 200],
    ["/status", {}, 401],
    ["/status", as(web.key), 403],
    [`/token/${NCE}`, { method: "POST", ...as(web.key) }, 200],
    [`/token/${NCE}`, { method: "POST" }, 401],
    ["/token/nope", { method: "POST", ...as(web.key) }, 400],
  ];
  for (const [path, init, status] of own) {
    const response = await app.request(path, init);
    await response.body?.cancel();
    const label = `${init.method ?? "GET"} ${path}`;
    assert.equal(response.status, status, label);
    assert.deepEqual(securityHeaders(response), EXPECTED, label);
    assert.equal(response.headers.has("x-powered-by"), false, label);
  }
  const others: [string, RequestInit, number][] = [
    [`/aqc/${NCE}${SEARCH}`, as(web.key), 200], // warm path after the first
    [`/aqc/${NCE}${SEARCH}`, as(web.key), 200],
    [`/aqc/${NCE}${SEARCH}`, {}, 401],
    ["/nothing-here", {}, 404],
  ];
  for (const [path, init, status] of others) {
    const response = await app.request(path, init);
    await response.body?.cancel();
    assert.equal(response.status, status, path);
    assert.deepEqual(securityHeaders(response), [], path);
  }
});
