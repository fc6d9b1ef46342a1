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
import { bootstrap } from "./gateway/bootstrap.ts";

type CronFn = (name: string, schedule: string, handler: () => Promise<unknown>) => Promise<void>;

const started = bootstrap(Deno.env.toObject());
if (!started.ok) {
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
