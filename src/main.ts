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
 * @module
 */
import { ConfigError, loadConfig } from "./config/load_config.ts";
import { createGateway, createTokenManager } from "./gateway/create_gateway.ts";

type CronFn = (name: string, schedule: string, handler: () => Promise<void>) => Promise<void>;

function load(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(Deno.env.toObject());
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.problems) console.error(`aqc-edge: ${line}`);
      console.error("aqc-edge: configuration invalid, exiting");
      Deno.exit(1);
    }
    throw error;
  }
}

const config = load();
for (const warning of config.warnings) console.warn(`aqc-edge: ${warning}`);
const tokens = createTokenManager(config);
const app = createGateway(config, { tokens });

async function prewarm(): Promise<void> {
  if (config.offices === undefined) return;
  const results = await tokens.prewarm(config.offices);
  for (const result of results) {
    if (!result.ok) console.warn(`aqc-edge: prewarm of ${result.officeId} failed: ${result.code}`);
  }
}

if (config.offices !== undefined) {
  void prewarm();
  const cron = (Deno as unknown as { cron?: CronFn }).cron;
  // Four minutes: inside the default five-minute refresh window, so requests never wait.
  if (typeof cron === "function") void cron("aqc-edge prewarm", "*/4 * * * *", prewarm);
}

/** The `deno serve` handler. */
export default { fetch: app.fetch } satisfies Deno.ServeDefaultExport;
