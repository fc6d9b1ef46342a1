/**
 * Runs the AQC simulator as a process:
 * `deno run --allow-net dev/simulator/main.ts [--port N] [--hostname H]`.
 * Prints the base URL alone on stdout (easy to capture), the rest on stderr.
 *
 * @module
 */

import { serveSimulator } from "./serve.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_OFFICE_ID } from "./simulator.ts";

const USAGE = `AQC simulator: token endpoint, flight APIs, echo API, fault knobs, counters.

Usage: deno run --allow-net dev/simulator/main.ts [--port N] [--hostname H]

Options:
  --port N       Port to listen on (default 0: a free port)
  --hostname H   Interface to bind (default 127.0.0.1)
  -h, --help     Show this help

Accepted client: client_id=${DEFAULT_CLIENT_ID} client_secret=${DEFAULT_CLIENT_SECRET}
Example office:  ${DEFAULT_OFFICE_ID}

Routes:
  POST /v1/security/oauth2/token            client-credentials tokens (guest_office_id)
  GET|POST /v2/shopping/flight-offers       canned offers (Bearer token)
  POST /v1/shopping/flight-offers/pricing   canned pricing
  POST /v1/booking/flight-orders            create an order; GET|DELETE …/:id
  ANY  /v1/echo/…                           echoes method, path, query, headers, body
  GET  /__sim/counters | /__sim/tokens | /__sim/knobs
  POST /__sim/configure (JSON knobs) | /__sim/reset | /__sim/revoke-all
  POST /__sim/revoke | /__sim/expire ({"accessToken":"…"}) | /__sim/release
`;

/**
 * Parses the command line.
 *
 * @param args `Deno.args`.
 * @returns The options, `"help"`, or an error message.
 */
export function parseArgs(
  args: string[],
): { port: number; hostname: string } | "help" | { error: string } {
  let port = 0;
  let hostname = "127.0.0.1";
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i];
    if (flag === "-h" || flag === "--help") return "help";
    if (flag === "--port") {
      const text = value();
      port = Number(text);
      if (!/^\d+$/.test(text ?? "") || port > 65535) return { error: `Invalid --port: ${text}` };
    } else if (flag === "--hostname") {
      const text = value();
      if (!text) return { error: "Missing value for --hostname" };
      hostname = text;
    } else {
      return { error: `Unknown argument: ${args[i]}` };
    }
  }
  return { port, hostname };
}

if (import.meta.main) {
  const parsed = parseArgs(Deno.args);
  if (parsed === "help") {
    console.log(USAGE);
  } else if ("error" in parsed) {
    console.error(`${parsed.error}\n\n${USAGE}`);
    Deno.exit(2);
  } else {
    const served = await serveSimulator(parsed);
    console.log(served.url);
    console.error(`AQC simulator listening on ${served.url} (Ctrl-C to stop; --help for routes)`);
    const stop = async () => {
      await served.close();
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  }
}
