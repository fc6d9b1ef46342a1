/**
 * `deno task dev`: the gateway on 127.0.0.1 with everything it needs.
 *
 * Without `AQC_API_URL` in the environment it starts the AQC simulator, the in-memory
 * store and a fresh gateway key, and prints the URL and a ready `curl` line. With real
 * `AQC_*` / `UPSTASH_*` variables set it uses them instead (and `AQC_GATEWAY_KEYS` must
 * be set too).
 *
 * @module
 */
import { ConfigError, createGateway, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import { otelRegistered, otelTelemetry } from "../src/otel/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "./simulator/mod.ts";

const HELP = `Usage: deno task dev [--port N]

Starts the aqc-edge gateway on http://127.0.0.1:PORT (default 8787, or $PORT).

Without AQC_API_URL set, it also starts the AQC simulator on a free loopback port,
uses the in-memory token store and makes a gateway key for this run, then prints a
curl line that searches flights through the gateway.

With AQC_API_URL, AQC_CLIENT_ID, AQC_CLIENT_SECRET and AQC_GATEWAY_KEYS set (and
optionally UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, AQC_TOKEN_KEY), it
serves those instead. See the README for every variable.

With OTEL_DENO=true (and OTEL_EXPORTER_OTLP_ENDPOINT of a collector, default
http://localhost:4318) the gateway's traces and metrics are exported over OTLP.`;

function portArg(): number {
  const at = Deno.args.indexOf("--port");
  const raw = at === -1 ? Deno.env.get("PORT") ?? "8787" : Deno.args[at + 1];
  const port = Number(raw);
  if (!/^\d+$/.test(raw ?? "") || port > 65535) {
    console.error(`dev: invalid port "${raw}"`);
    Deno.exit(2);
  }
  return port;
}

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(HELP);
  Deno.exit(0);
}

const port = portArg();
const env = Deno.env.toObject();
const embedded = env.AQC_API_URL === undefined;
let callerKey = "<your gateway key>";
const cleanup: Array<() => Promise<void>> = [];

if (embedded) {
  const simulator = await serveSimulator();
  cleanup.push(() => simulator.close());
  const { key, entry } = await generateGatewayKey("dev", ["*"]);
  callerKey = key;
  Object.assign(env, {
    AQC_API_URL: simulator.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    // Admin, so GET /status works with the same key in dev.
    AQC_GATEWAY_KEYS: JSON.stringify([{ ...entry, admin: true }]),
  });
  console.log(`dev: AQC simulator on ${simulator.url}`);
}

let config;
try {
  config = loadConfig(env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const issue of error.issues) console.error(`dev: ${issue.message}`);
  Deno.exit(1);
}
for (const warning of config.warnings) console.log(`dev: ${warning}`);

const traced = otelRegistered();
const app = createGateway(config, traced ? { telemetry: otelTelemetry() } : {});
if (traced) {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "http://localhost:4318";
  console.log(`dev: OpenTelemetry on: traces and metrics go to ${endpoint} (OTLP)`);
}
const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, app.fetch);
const url = `http://127.0.0.1:${server.addr.port}`;
const search =
  "/aqc/NCE1A0955/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";
console.log(`dev: aqc-edge gateway on ${url}`);
console.log(`dev: try it:`);
console.log(`  curl -s -H 'Authorization: Bearer ${callerKey}' '${url}${search}'`);
if (embedded) {
  console.log(`  curl -s -H 'Authorization: Bearer ${callerKey}' '${url}/status?format=json'`);
  console.log(`dev: the key above is for this run only; Ctrl-C stops everything`);
}

const stop = async () => {
  await server.shutdown();
  for (const close of cleanup) await close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
