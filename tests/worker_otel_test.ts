/**
 * The Worker entry with a tracer provider registered by the Worker's own setup, in the real
 * workerd (`wrangler dev`, tests/fixtures/workerd/otel): the entry loads its OpenTelemetry
 * wiring only once a provider is registered (a cold start without one does not evaluate
 * `@opentelemetry/api`), and then records the gateway's spans with that provider.
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

Deno.test("workerd: the Worker entry traces with a provider its Worker registered", async () => {
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
