/**
 * Unit tests of the shared start-up: no server, no network (an unreachable loopback port stands
 * in for AQC, so the prewarm fails at once).
 */
import assert from "../../tests/helpers/assert.ts";
import { generateGatewayKey } from "../config/keys.ts";
import { bootstrap, type BootstrapLog } from "./bootstrap.ts";

const SECRET = "client-secret-must-never-print";

function recorder(): BootstrapLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    error: (line) => lines.push(`error ${line}`),
    warn: (line) => lines.push(`warn ${line}`),
  };
}

async function env(): Promise<Record<string, string>> {
  const { entry } = await generateGatewayKey("web", ["*"]);
  return {
    // Port 9 (discard) on loopback: nothing listens, a token request fails at once.
    AQC_API_URL: "http://127.0.0.1:9",
    AQC_CLIENT_ID: "client-id",
    AQC_CLIENT_SECRET: SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
    AQC_OFFICES: "NCE1A0955",
    AQC_TOKEN_DEADLINE_MS: "100",
  };
}

Deno.test("bootstrap: an invalid configuration logs each issue once and names the variables", () => {
  const log = recorder();
  const started = bootstrap({ AQC_CLIENT_SECRET: SECRET, AQC_STORE_TIMEOUT_MS: "5s" }, {
    startupLog: log,
  });
  assert.equal(started.ok, false);
  assert.ok(!started.ok);
  assert.deepEqual(started.variables, [
    "AQC_API_URL",
    "AQC_CLIENT_ID",
    "AQC_GATEWAY_KEYS",
    "AQC_STORE_TIMEOUT_MS",
  ]);
  assert.equal(log.lines.length, started.issues.length);
  assert.ok(log.lines.every((line) => line.startsWith("error ") && !line.includes(SECRET)));
});

Deno.test("bootstrap: warns once, serves, and prewarm logs the offices that failed", async () => {
  const log = recorder();
  const started = bootstrap(await env(), { startupLog: log, log: () => {} });
  assert.ok(started.ok);
  // The in-memory store warning, once.
  assert.deepEqual(log.lines.map((line) => line.split(":")[0]), [
    "warn UPSTASH_REDIS_REST_URL is not set",
  ]);
  const health = await started.app.request("/healthz");
  assert.equal(health.status, 200);
  await health.body?.cancel();
  // The app and the prewarm share one token manager.
  assert.equal(started.tokens.apiUrl, "http://127.0.0.1:9");
  const results = await started.prewarm();
  assert.deepEqual(results.map((r) => [r.officeId, r.ok]), [["NCE1A0955", false]]);
  assert.match(log.lines.at(-1) ?? "", /^warn prewarm of NCE1A0955 failed: [a-z_]+$/);
  assert.ok(log.lines.every((line) => !line.includes(SECRET)));
});
