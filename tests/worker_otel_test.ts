/**
 * The Worker with telemetry opted into (`createAqcWorker({ telemetry: otelTelemetry() })`) and
 * a global tracer provider registered at module scope by the Worker's own setup, in the real
 * workerd (`wrangler dev`, tests/fixtures/workerd/otel): the gateway records its spans with
 * that provider, and nothing of it does what workerd refuses at module scope. (The default
 * Worker carries no OpenTelemetry at all: tests/entries_test.ts; a composed entry with the SDK
 * passed explicitly and its entrypoint: tests/worker_telemetry_test.ts.)
 *
 * Run: `deno test --allow-net=127.0.0.1,localhost --allow-run --allow-env --allow-read
 * --allow-write=/tmp tests/worker_otel_test.ts` (wrangler runs as a subprocess).
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { startWrangler } from "./helpers/workerd.ts";

const FIXTURE = "tests/fixtures/workerd/otel/wrangler.toml";
const SEARCH =
  "/aqc/NCE1A0955/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

Deno.test("workerd: a Worker with telemetry traces with the provider it registered", async () => {
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  await using session = await startWrangler({
    configs: [FIXTURE],
    vars: { AQC_API_URL: served.url, AQC_CLIENT_ID: DEFAULT_CLIENT_ID },
    secrets: {
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([entry]),
    },
  });
  const first = await fetch(`${session.url}${SEARCH}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(first.status, 200, await first.clone().text());
  await first.body?.cancel();
  const spans = await (await fetch(`${session.url}/__spans`)).json() as string[];
  assert.ok(spans.includes("GET /aqc/:office/*"), JSON.stringify(spans));
  assert.ok(spans.includes("aqc.token.request"), JSON.stringify(spans));
  assert.ok(!/Disallowed operation/i.test(session.output()), session.output().slice(-2000));
});
