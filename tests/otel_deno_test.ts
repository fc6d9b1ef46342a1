/**
 * Deno's built-in OpenTelemetry: `deno serve src/main.ts` with `OTEL_DENO=true` exports OTLP/HTTP
 * to a receiver this test runs on 127.0.0.1; the gateway's own spans and metrics arrive, the
 * caller's trace is continued, and no secret is in what was sent.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { serveMain } from "./helpers/deno_serve.ts";
import { findLeaks } from "./helpers/leaks.ts";
import { SEARCH } from "./helpers/ops_gateway.ts";
import { waitFor } from "./helpers/stack.ts";

const OFFICE = "NCE1A0955";
const CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";

/** An OTLP/HTTP (JSON) receiver: keeps every body posted to /v1/traces and /v1/metrics. */
function startReceiver(): { url: string; bodies: Map<string, string[]>; close(): Promise<void> } {
  const bodies = new Map<string, string[]>([["/v1/traces", []], ["/v1/metrics", []], [
    "/v1/logs",
    [],
  ]]);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const text = await req.text();
    bodies.get(path)?.push(text);
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    bodies,
    close: () => server.shutdown(),
  };
}

Deno.test("OTEL_DENO=true: deno serve src/main.ts exports the gateway's spans and metrics over OTLP/HTTP", async () => {
  const receiver = startReceiver();
  try {
    await using served = await serveSimulator();
    const { key, entry } = await generateGatewayKey("web", ["*"]);
    await using gateway = await serveMain({
      AQC_API_URL: served.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([entry]),
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "aqc-edge-test",
      OTEL_METRIC_EXPORT_INTERVAL: "500",
    });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${gateway.url}/aqc/${OFFICE}${SEARCH}`, {
        headers: {
          authorization: `Bearer ${key}`,
          traceparent: `00-${CALLER_TRACE}-b7ad6b7169203331-01`,
        },
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    const has = (path: string, needle: string) =>
      receiver.bodies.get(path)!.some((body) => body.includes(needle));
    await waitFor(
      () => has("/v1/traces", "aqc.token.get") && has("/v1/metrics", "aqc.token.lookups"),
      20_000,
      "OTLP export of spans and metrics",
    );
    const traces = receiver.bodies.get("/v1/traces")!.join("\n");
    assert.ok(traces.includes("GET /aqc/:office/*"), "the gateway request span");
    assert.ok(traces.includes("aqc.token.request"), "the token request span");
    // Our server span (not only Deno's own HTTP span) is in the caller's trace.
    const spans = receiver.bodies.get("/v1/traces")!.flatMap((body) =>
      (JSON.parse(body).resourceSpans ?? []).flatMap((r: { scopeSpans: { spans: unknown[] }[] }) =>
        r.scopeSpans.flatMap((scope) => scope.spans)
      )
    ) as { name: string; traceId: string; kind: number }[];
    const ours = spans.filter((span) => span.name === "GET /aqc/:office/*");
    assert.equal(ours.length, 3);
    assert.ok(
      ours.every((span) => span.traceId.toLowerCase() === CALLER_TRACE),
      JSON.stringify(ours[0]).slice(0, 300),
    );
    assert.ok(traces.includes("aqc-edge-test"), "service name from OTEL_SERVICE_NAME");
    const issued = served.simulator.issuedTokens.map((t, i) => ({
      name: `token #${i}`,
      value: t.accessToken,
    }));
    const leaks = findLeaks(
      [...receiver.bodies].map(([where, list]) => ({ where, text: list.join("\n") })),
      [
        { name: "client secret", value: DEFAULT_CLIENT_SECRET },
        { name: "key", value: key },
        ...issued,
      ],
    );
    assert.deepEqual(leaks, []);
  } finally {
    await receiver.close();
  }
});
