/**
 * Telemetry opted into on Workers: an entry of one's own (`tests/fixtures/workerd/otel_worker`,
 * the README's composition) passes `otelTelemetry()` with the real OpenTelemetry SDK to
 * `createAqcWorker` and exports `createAqcEntrypoint(worker)`; in the real workerd
 * (`wrangler dev`) its HTTP and service-binding callers are served by one gateway whose spans
 * are exported. The default Worker, without telemetry, is worker_test.ts's.
 *
 * Run: `deno test --allow-net=127.0.0.1,localhost --allow-run --allow-env --allow-read
 * --allow-write=/tmp tests/worker_telemetry_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { startWrangler } from "./helpers/workerd.ts";

const NCE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

/** A span as the fixture's `/__spans` lists it. */
interface ExportedSpan {
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

Deno.test("workerd: a composed entry with telemetry serves HTTP and its entrypoint, and exports their spans", async () => {
  await using sim = await serveSimulator();
  const web = await generateGatewayKey("web", ["*"]);
  await using session = await startWrangler({
    configs: ["tests/fixtures/workerd/otel_worker/wrangler.toml"],
    vars: { AQC_API_URL: sim.url, AQC_CLIENT_ID: DEFAULT_CLIENT_ID, AQC_OFFICES: NCE },
    secrets: {
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([web.entry]),
    },
  });
  const headers = { authorization: `Bearer ${web.key}` };

  const direct = await fetch(`${session.url}/aqc/${NCE}${SEARCH}`, { headers });
  const body = await direct.text();
  assert.equal(direct.status, 200, `${body}\n${session.output()}`);
  assert.ok(JSON.parse(body).data.length > 0);
  const bound = await fetch(`${session.url}/__entrypoint/aqc/${NCE}${SEARCH}`, { headers });
  assert.equal(bound.status, 200, await bound.clone().text());
  await bound.body?.cancel();
  const refused = await fetch(`${session.url}/__entrypoint/aqc/${NCE}${SEARCH}`);
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  // One gateway behind both: one token request.
  assert.equal(sim.simulator.counters.tokenRequests, 1);

  const spans: ExportedSpan[] = await (await fetch(`${session.url}/__spans`)).json();
  const named = (name: string) => spans.filter((span) => span.name === name);
  const servers = named("GET /aqc/:office/*");
  assert.equal(servers.length, 3, JSON.stringify(spans.map((span) => span.name)));
  assert.deepEqual(
    servers.map((span) => span.attributes["http.response.status_code"]).sort(),
    [200, 200, 401],
  );
  assert.ok(servers.every((span) => span.attributes["aqc.office_id"] === NCE));
  assert.deepEqual(
    named("aqc.token.get").map((span) => span.attributes["aqc.token.source"]).sort(),
    ["endpoint", "l1"],
  );
  assert.equal(named("aqc.token.request").length, 1);
  // The AQC calls: client spans without the query string.
  const calls = named("GET").filter((span) => span.attributes["url.full"] !== undefined);
  assert.equal(calls.length, 2);
  for (const call of calls) {
    assert.equal(call.attributes["url.full"], `${sim.url}/v2/shopping/flight-offers`);
    assert.equal(call.attributes["http.response.status_code"], 200);
  }
  // Nothing secret was exported.
  const exported = JSON.stringify(spans);
  for (const secret of [web.key, DEFAULT_CLIENT_SECRET]) assert.ok(!exported.includes(secret));
  for (const token of sim.simulator.issuedTokens) assert.ok(!exported.includes(token.accessToken));
});
