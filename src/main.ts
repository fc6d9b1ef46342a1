/**
 * Deno Deploy entry: `deno serve src/main.ts`.
 *
 * Reads the configuration from the environment at start-up and exits at once, naming
 * the variable, when it is wrong. Prewarms `AQC_OFFICES` on start and, where `Deno.cron`
 * exists (Deno Deploy), every four minutes.
 *
 * @example
 * ```sh
 * AQC_API_URL=https://test.travel.api.amadeus.com AQC_CLIENT_ID=… AQC_CLIENT_SECRET=… \
 *   AQC_GATEWAY_KEYS='[{"id":"web","sha256":"…","offices":["*"]}]' \
 *   deno serve --allow-net --allow-env src/main.ts
 * ```
 *
 * `--allow-env` may list just the variables it reads (`CONFIG_VARIABLES` of `./gateway`).
 *
 * @module
 */
import { CONFIG_VARIABLES } from "./config/load_config.ts";
import { bootstrap } from "./gateway/bootstrap.ts";
import { otelRegistered, otelTelemetry } from "./otel/mod.ts";

type CronFn = (name: string, schedule: string, handler: () => Promise<unknown>) => Promise<void>;

/**
 * The configuration variables only, one by one: `Deno.env.toObject()` needs access to the whole
 * environment, so it failed under an `--allow-env` that lists just the variables read. A variable
 * the permission does not cover reads as unset, and is named if the configuration then fails.
 */
function readEnv(): { env: Record<string, string | undefined>; denied: string[] } {
  const env: Record<string, string | undefined> = {};
  const denied: string[] = [];
  for (const name of CONFIG_VARIABLES) {
    try {
      env[name] = Deno.env.get(name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotCapable)) throw error;
      denied.push(name);
    }
  }
  return { env, denied };
}

const { env, denied } = readEnv();
// With OTEL_DENO=true Deno registers a provider before this module runs: traces and metrics
// then go to its OTLP exporter. Without one, no telemetry is wired at all (zero cost).
const started = bootstrap(env, otelRegistered() ? { telemetry: otelTelemetry() } : {});
if (!started.ok) {
  const hidden = denied.filter((name) => started.variables.includes(name));
  if (hidden.length > 0) {
    console.error(`aqc-edge: --allow-env does not cover ${hidden.join(", ")}`);
  }
  console.error("aqc-edge: configuration invalid, exiting");
  Deno.exit(1);
}

if (started.config.offices !== undefined) {
  void started.prewarm();
  const cron = (Deno as unknown as { cron?: CronFn }).cron;
  // Four minutes: inside the default five-minute refresh window, so requests never wait.
  if (typeof cron === "function") void cron("aqc-edge prewarm", "*/4 * * * *", started.prewarm);
}

/** The `deno serve` handler. */
export default { fetch: started.app.fetch } satisfies Deno.ServeDefaultExport;
