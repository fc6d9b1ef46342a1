/**
 * The gateway's fast path (warm callers' proxied requests skip Hono) must answer exactly as
 * the Hono route does. Two gateways over the same simulator, one with a
 * pass-through telemetry hook (telemetry always takes the Hono app), one without (the fast
 * path): every request below goes to both, after each key was verified once, and the
 * answers must match in status, body, headers and log lines.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createGateway, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import type { GatewayLogEntry, GatewayTelemetry } from "../src/gateway/mod.ts";
import { TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import type { KnobsUpdate } from "../dev/simulator/mod.ts";
import { opsEnv, opsGateway } from "./helpers/ops_gateway.ts";

const OFFICE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A telemetry hook that observes nothing: only its presence matters (no fast path). */
const passThrough: GatewayTelemetry = {
  middleware: (_c, next) => next(),
  wrapFetch: (transport) => transport,
  wrapStore: (store) => store,
  onToken: () => {},
  onTokenEvent: () => {},
  onGuardEvent: () => {},
  bind: () => {},
};

interface Seen {
  status: number;
  body: string;
  headers: [string, string][];
  requestId: string | null;
}

async function seen(response: Response): Promise<Seen> {
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => {
    if (name === "x-request-id" || name === "date") return;
    // Durations differ from call to call; the names and sources must not.
    headers.push([name, name === "server-timing" ? value.replace(/dur=[0-9.]+/g, "dur=") : value]);
  });
  return {
    status: response.status,
    // The echo API shows the AQC bearer, which is each gateway's own.
    body: (await response.text()).replace(/Bearer [A-Za-z0-9._~+/-]+=*/g, "Bearer <token>"),
    headers,
    requestId: response.headers.get("x-request-id"),
  };
}

Deno.test("the fast path answers every request exactly as the Hono route does", async () => {
  await using served = await serveSimulator();
  const narrow = await generateGatewayKey("narrow", [OFFICE, "MUC1A0701"]);
  const wide = await generateGatewayKey("wide", ["*"]);
  const config = loadConfig({
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([narrow.entry, wide.entry]),
    AQC_MAX_BODY_BYTES: "64",
  });
  // One token manager each: both gateways then live through the same token history.
  const tokens = new TokenManager({ credentials: config.credentials });
  const honoTokens = new TokenManager({ credentials: config.credentials });
  const logs = { fast: [] as GatewayLogEntry[], hono: [] as GatewayLogEntry[] };
  const fast = createGateway(config, { tokens, log: (entry) => logs.fast.push(entry) });
  const hono = createGateway(config, {
    tokens: honoTokens,
    telemetry: passThrough,
    log: (entry) => logs.hono.push(entry),
  });
  const keys = { narrow: narrow.key, wide: wide.key };
  interface Variant {
    method?: string;
    key?: keyof typeof keys;
    headers?: Record<string, string>;
    /** A fresh body per request (a stream is read once). */
    body?: () => BodyInit;
  }
  const send = async (gateway: typeof fast, path: string, init: Variant) =>
    await seen(
      await gateway.fetch(
        new Request(`http://127.0.0.1:8000${path}`, {
          method: init.method ?? "GET",
          headers: { authorization: `Bearer ${keys[init.key ?? "narrow"]}`, ...init.headers },
          body: init.body?.() ?? null,
        }),
      ),
    );
  const chunks = (...texts: string[]) => () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const text of texts) controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    });
  const breaksOff = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(8));
        controller.error(new TypeError("connection reset by the caller"));
      },
    });
  // Verify both keys once on both gateways: from now on the fast one skips Hono.
  for (const key of ["narrow", "wide"] as const) {
    for (const gateway of [fast, hono]) await send(gateway, `/aqc/${OFFICE}${SEARCH}`, { key });
  }

  const paths = [
    `/aqc/${OFFICE}${SEARCH}`,
    `/aqc/nce1a0955/v1/echo/lower`,
    `/aqc/${OFFICE}/v1/echo/a%2Fb?x=%2e%2e`,
    `/aqc/BAD/v1/echo/x`,
    `/aqc/OTHER1234/v1/echo/x`,
    `/aqc/%4ECE1A0955/v1/echo/encoded-office`,
    `/aqc/${OFFICE}/v1/security/oauth2/token`,
    `/aqc/${OFFICE}/V1;x/Security./x`,
    `/aqc/${OFFICE}/v1/%2573ecurity/x`,
    `/aqc/${OFFICE}/v1/echo/%2e%2e/x`,
    `/aqc/${OFFICE}/v1/echo/..;/x`,
    `/aqc/${OFFICE}?q=/v1/echo/x`,
    `/aqc/${OFFICE}/`,
    `/aqc/${OFFICE}`,
    `/aqc//v1/echo/x`,
    `/aqc/${OFFICE}//v1/echo/x`,
    `/aqc/${OFFICE}/v1/echo/%ZZ`,
  ];
  const variants: Variant[] = [
    {},
    // Bodies: within the limit of 64 bytes, over it (declared or streamed), broken off.
    { method: "POST", headers: { "content-type": "application/json" }, body: () => '{"a":1}' },
    { method: "PUT", body: () => "x".repeat(65) },
    { method: "POST", headers: { "content-length": "3" }, body: () => "abc" },
    { method: "PATCH", body: chunks("y".repeat(40), "y".repeat(24)) },
    { method: "POST", body: chunks("z".repeat(40), "z".repeat(40)) },
    { method: "DELETE", body: () => "gone" },
    { method: "POST", body: breaksOff },
    { method: "DELETE" },
    { method: "OPTIONS" },
    { method: "HEAD" },
    { method: "PUT" },
    { key: "wide" },
    { headers: { host: "evil.example/aqc/OTHER1234" } },
    {
      headers: { cookie: "a=b", "x-forwarded-for": "1.2.3.4", "x-request-id": 'caller "1" \\ x' },
    },
    { headers: { accept: "application/json", "ama-client-ref": "ref-1" } },
  ];
  const faults: (KnobsUpdate | undefined)[] = [
    undefined,
    { apiFailure: { mode: "status", status: 500 } },
    { apiFailure: { mode: "unauthorized", challenge: 'Bearer error="insufficient_scope"' } },
    { apiFailure: { mode: "invalid_token", remaining: 2 } },
    // The connection dropped: the gateway's own 502, logged.
    { apiFailure: { mode: "reset" } },
    // Last: an AQC 429 holds the office in both gateways for the rest of the run.
    { apiFailure: { mode: "rate_limited", retryAfterSeconds: 60 } },
  ];
  let compared = 0;
  for (const fault of faults) {
    for (const path of paths) {
      for (const variant of variants) {
        served.simulator.configure({ apiFailure: null, ...fault });
        const viaFast = await send(fast, path, variant);
        served.simulator.configure({ apiFailure: null, ...fault });
        const viaHono = await send(hono, path, variant);
        const label = `${variant.method ?? "GET"} ${path} ${JSON.stringify(variant)} ${
          JSON.stringify(fault)
        }`;
        assert.equal(viaFast.status, viaHono.status, label);
        if (variant.body === breaksOff && path.startsWith(`/aqc/${OFFICE}/v1/`)) {
          assert.equal(viaFast.status, 499, label);
        }
        assert.equal(viaFast.body, viaHono.body, label);
        assert.deepEqual(viaFast.headers, viaHono.headers, label);
        assert.match(viaFast.requestId ?? "", UUID, label);
        assert.match(viaHono.requestId ?? "", UUID, label);
        compared++;
      }
    }
  }
  served.simulator.configure({ apiFailure: null });
  assert.equal(compared, faults.length * paths.length * variants.length);
  const logged = (entries: GatewayLogEntry[]) =>
    entries.map(({ level, code, message, officeId, keyId, callerRequestId }) => ({
      level,
      code,
      message,
      officeId,
      keyId,
      callerRequestId,
    }));
  assert.deepEqual(logged(logs.fast), logged(logs.hono));
  assert.ok(logs.fast.length > 0, "the 502s were logged");
  // A body that breaks off is the caller's doing: 499, nothing logged (it was a 500 and an
  // error line, a way for any caller to fill the log).
  assert.ok(!logs.fast.some((e) => e.code === "internal_error"), JSON.stringify(logs.fast));
  await tokens.whenIdle();
  await honoTokens.whenIdle();
});

Deno.test("an encoded /aqc/ prefix reaches AQC at the path after the office, or nowhere", async () => {
  // Hono routes `/%61qc/{office}/…` to the proxy route (it decodes the path); the upstream
  // path once counted five raw characters for the prefix and kept the office in the path.
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", [OFFICE]);
  const gateway = opsGateway(opsEnv(served.url, [entry])).app;
  for (const prefix of ["/aqc", "/%61qc", "/a%71c", "/%61%71%63"]) {
    for (let warm = 0; warm < 2; warm++) {
      const response = await gateway.fetch(
        new Request(`http://127.0.0.1:8000${prefix}/${OFFICE}/v1/echo/encoded?x=1`, {
          headers: { authorization: `Bearer ${key}` },
        }),
      );
      assert.equal(response.status, 200, prefix);
      const echo = await response.json() as { path: string; search: string };
      assert.equal(echo.path, "/v1/echo/encoded", prefix);
      assert.equal(echo.search, "?x=1", prefix);
    }
  }
});
