/**
 * OpenTelemetry with the real SDK: spans nest (server → token → AQC client), the caller's W3C
 * trace is continued and passed to AQC, the metrics the README lists are recorded, and nothing
 * exported holds a token, the client secret, a gateway key or a store credential.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SpanKind, trace } from "@opentelemetry/api";
import { BasicTracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { DEFAULT_CLIENT_SECRET, type EchoBody, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { METRICS, otelRegistered, otelTelemetry } from "../src/otel/mod.ts";
import { MAX_OFFICE_LABELS } from "../src/otel/telemetry.ts";
import { encodings, findLeaks } from "./helpers/leaks.ts";
import { opsEnv, opsGateway } from "./helpers/ops_gateway.ts";
import { startOtelSdk } from "./helpers/otel.ts";
import { startUpstash } from "./helpers/redis.ts";

const OFFICE = "NCE1A0955";
const OTHER = "DELAI08AA";
const REJECTED = "PARAF08AA";
const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

function metricPoints(
  all: ResourceMetrics[],
  name: string,
): { attributes: Record<string, unknown>; value: unknown }[] {
  const out: { attributes: Record<string, unknown>; value: unknown }[] = [];
  for (const resource of all) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== name) continue;
        for (const point of metric.dataPoints) {
          out.push({ attributes: point.attributes, value: point.value });
        }
      }
    }
  }
  return out;
}

function sum(
  points: { attributes: Record<string, unknown>; value: unknown }[],
  match: Record<string, unknown>,
): number {
  let total = 0;
  for (const point of points) {
    if (Object.entries(match).every(([k, v]) => point.attributes[k] === v)) {
      total += typeof point.value === "number"
        ? point.value
        : (point.value as { count: number }).count;
    }
  }
  return total;
}

Deno.test("OpenTelemetry SDK: nested spans, W3C trace continued to AQC, metrics, no secret exported", async () => {
  assert.equal(otelRegistered(), false, "no global provider in this test process");
  await using sdk = startOtelSdk();
  await using upstash = await startUpstash();
  await using served = await serveSimulator({
    clients: {
      "aqc-test-client": { secret: DEFAULT_CLIENT_SECRET, offices: [OFFICE, OTHER] },
    },
  });
  const limited = await generateGatewayKey("web", ["*"]);
  const free = await generateGatewayKey("ops", ["*"]);
  const env = opsEnv(served.url, [
    { ...limited.entry, rateLimit: { requests: 4, windowSeconds: 60 } },
    free.entry,
  ], upstash);
  const gw = opsGateway(env, {
    telemetry: otelTelemetry({
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
    }),
  });
  const call = async (
    key: string,
    office: string,
    path: string,
    headers: Record<string, string> = {},
  ) =>
    await gw.app.fetch(
      new Request(`http://127.0.0.1/aqc/${office}${path}`, {
        headers: { authorization: `Bearer ${key}`, ...headers },
      }),
    );

  // 1. A traced caller: its trace goes on through the gateway to AQC.
  const first = await call(free.key, OFFICE, "/v1/echo/trace?secretish=1", {
    traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
    tracestate: "vendor=abc",
  });
  assert.equal(first.status, 200);
  const echo: EchoBody = await first.json();
  const spans = sdk.spans();
  const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
  assert.ok(server, "a server span");
  assert.equal(server.name, "GET /aqc/:office/*");
  assert.equal(server.spanContext().traceId, CALLER_TRACE);
  assert.equal(server.parentSpanContext?.spanId, CALLER_SPAN);
  assert.equal(server.attributes["http.request.method"], "GET");
  assert.equal(server.attributes["http.route"], "/aqc/:office/*");
  assert.equal(server.attributes["http.response.status_code"], 200);
  assert.equal(server.attributes["aqc.office_id"], OFFICE);
  assert.equal(server.attributes["aqc.caller_id"], "ops");
  const childOf = (parent: ReadableSpan) => (s: ReadableSpan) =>
    s.parentSpanContext?.spanId === parent.spanContext().spanId;
  const client = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === "GET")!;
  assert.ok(client && childOf(server)(client), "the AQC call is a child of the request");
  assert.equal(client.attributes["url.full"], `${served.url}/v1/echo/trace`, "no query string");
  assert.equal(client.attributes["http.response.status_code"], 200);
  assert.equal(client.attributes["aqc.office_id"], OFFICE);
  assert.equal(
    echo.headers.traceparent,
    `00-${CALLER_TRACE}-${client.spanContext().spanId}-01`,
    "AQC receives the client span as parent",
  );
  assert.equal(echo.headers.tracestate, "vendor=abc");
  const lookup = spans.find((s) => s.name === "aqc.token.get")!;
  assert.ok(childOf(server)(lookup));
  assert.equal(lookup.attributes["aqc.token.source"], "endpoint");
  const tokenRequest = spans.find((s) => s.name === "aqc.token.request")!;
  assert.equal(tokenRequest.kind, SpanKind.CLIENT);
  assert.equal(tokenRequest.attributes["aqc.token.attempts"], 1);
  assert.equal(tokenRequest.attributes["aqc.token.retries"], 0);
  assert.equal(tokenRequest.spanContext().traceId, CALLER_TRACE, "inside the caller's trace");
  const storeOps = new Set(spans.filter((s) => s.name.startsWith("aqc.store ")).map((s) => s.name));
  for (const op of ["read", "acquireLease", "writeToken", "releaseLease"]) {
    assert.ok(storeOps.has(`aqc.store ${op}`), `store span ${op}: ${[...storeOps]}`);
  }

  // 2. Warm calls (l1), a limited caller over its limit, an AQC 429 and its hold, a rejected office.
  for (let i = 0; i < 5; i++) await (await call(limited.key, OFFICE, "/v1/echo/x")).body?.cancel();
  served.simulator.configure({
    apiFailure: { mode: "rate_limited", retryAfterSeconds: 30, offices: [OTHER] },
  });
  for (let i = 0; i < 2; i++) await (await call(free.key, OTHER, "/v1/echo/y")).body?.cancel();
  served.simulator.configure({ apiFailure: null });
  const rejected = await call(free.key, REJECTED, "/v1/echo/z");
  assert.equal(rejected.status, 502);
  await rejected.body?.cancel();
  assert.equal(
    sdk.spans().find((s) => s.attributes["http.response.status_code"] === 502)?.status.code,
    2,
  );

  const all = await sdk.metrics();
  const lookups = metricPoints(all, METRICS.tokenLookups);
  assert.equal(sum(lookups, { "aqc.token.source": "endpoint" }), 2, "NCE and DEL fetched once");
  assert.ok(sum(lookups, { "aqc.token.source": "l1" }) >= 4);
  const requests = metricPoints(all, METRICS.tokenRequests);
  assert.equal(sum(requests, { "aqc.outcome": "success" }), 2);
  assert.equal(sum(requests, { "aqc.outcome": "credentials_rejected" }), 1);
  const limitedPoints = metricPoints(all, METRICS.rateLimited);
  assert.equal(sum(limitedPoints, { "aqc.limit.reason": "caller", "aqc.caller_id": "web" }), 1);
  assert.equal(
    sum(limitedPoints, { "aqc.limit.reason": "upstream_hold", "aqc.office_id": OTHER }),
    1,
  );
  assert.equal(sum(metricPoints(all, METRICS.upstream429), { "aqc.office_id": OTHER }), 1);
  const durations = metricPoints(all, METRICS.upstreamDuration);
  assert.ok(sum(durations, { "aqc.office_id": OFFICE, "http.response.status_class": "2xx" }) >= 5);
  assert.equal(sum(durations, { "aqc.office_id": OTHER, "http.response.status_class": "4xx" }), 1);
  const circuit = metricPoints(all, METRICS.circuit);
  assert.equal(circuit.find((p) => p.attributes["aqc.office_id"] === REJECTED)?.value, 1);
  assert.equal(circuit.find((p) => p.attributes["aqc.office_id"] === OFFICE)?.value, 0);
  assert.ok(metricPoints(all, METRICS.held).some((p) => p.attributes["aqc.office_id"] === OTHER));
  assert.ok(metricPoints(all, METRICS.serverDuration).length > 0);

  // 3. Everything exported, scanned for every secret in every encoding.
  const exported = [
    ...sdk.spans().map((s) => ({
      where: `span ${s.name}`,
      text: JSON.stringify({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        status: s.status,
        links: s.links,
        resource: s.resource.attributes,
      }),
    })),
    { where: "metrics", text: JSON.stringify(all) },
  ];
  const needles = [
    { name: "client secret", value: DEFAULT_CLIENT_SECRET },
    { name: "gateway key web", value: limited.key },
    { name: "gateway key ops", value: free.key },
    { name: "AQC_TOKEN_KEY", value: env.AQC_TOKEN_KEY },
    { name: "Upstash token", value: upstash.token },
    ...served.simulator.issuedTokens.map((t, i) => ({ name: `token #${i}`, value: t.accessToken })),
  ];
  assert.ok(encodings(DEFAULT_CLIENT_SECRET).length > 3);
  assert.deepEqual(findLeaks(exported, needles), []);
  assert.ok(!exported.some((h) => h.text.includes("secretish")), "no query string exported");
});

Deno.test("otelRegistered sees a registered global tracer provider, and its removal", () => {
  assert.equal(otelRegistered(), false);
  assert.ok(trace.setGlobalTracerProvider(new BasicTracerProvider()));
  try {
    assert.equal(otelRegistered(), true);
  } finally {
    trace.disable();
  }
  assert.equal(otelRegistered(), false);
});

Deno.test("no telemetry option: the gateway records nothing even with an SDK around", async () => {
  await using sdk = startOtelSdk();
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const gw = opsGateway(opsEnv(served.url, [entry]));
  assert.equal((await gw.get(key, OFFICE)).status, 200);
  assert.equal(sdk.spans().length, 0);
});

Deno.test("telemetry stays bounded: office labels capped, unknown methods named _OTHER", async () => {
  await using sdk = startOtelSdk();
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const telemetry = otelTelemetry({
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
  });
  for (let i = 0; i < MAX_OFFICE_LABELS + 100; i++) {
    telemetry.onTokenEvent({
      type: "token_fetch_failed",
      officeId: `NCE${String(i).padStart(6, "0")}`,
      code: "credentials_rejected",
      attempt: 1,
      willRetry: false,
    });
  }
  const offices = new Set(
    metricPoints(await sdk.metrics(), METRICS.tokenRequests).map((p) =>
      p.attributes["aqc.office_id"]
    ),
  );
  assert.equal(offices.size, MAX_OFFICE_LABELS + 1);
  assert.ok(offices.has("_other"));

  const gw = opsGateway(opsEnv(served.url, [entry]), { telemetry });
  const response = await gw.app.fetch(
    new Request(`http://127.0.0.1/aqc/${OFFICE}/v1/echo/x`, {
      method: "FROBNICATE",
      headers: { authorization: `Bearer ${key}` },
    }),
  );
  await response.body?.cancel();
  const server = sdk.spans().find((s) => s.kind === SpanKind.SERVER)!;
  assert.equal(response.status, 405, "unknown methods are refused by the gateway");
  assert.equal(server.name, "_OTHER /aqc/:office/*");
  assert.equal(server.attributes["http.request.method"], "_OTHER");
});

Deno.test("a token another isolate requested while this one waited on its lease is source peer", async () => {
  await using sdk = startOtelSdk();
  await using upstash = await startUpstash();
  await using served = await serveSimulator({ knobs: { tokenLatencyMs: 400 } });
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const env = opsEnv(served.url, [entry], upstash);
  const isolates = [0, 1].map(() =>
    opsGateway(env, {
      telemetry: otelTelemetry({
        tracerProvider: sdk.tracerProvider,
        meterProvider: sdk.meterProvider,
      }),
    })
  );
  const [a, b] = await Promise.all(isolates.map((gw) => gw.get(key, OFFICE)));
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  await a.body?.cancel();
  await b.body?.cancel();
  assert.equal(served.simulator.counters.tokenRequests, 1, "one token request for the fleet");
  const sources = sdk.spans().filter((s) => s.name === "aqc.token.get").map((s) =>
    s.attributes["aqc.token.source"]
  ).sort();
  assert.deepEqual(sources, ["endpoint", "peer"]);
});
