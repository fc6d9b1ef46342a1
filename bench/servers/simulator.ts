/**
 * The AQC simulator as a benchmark process: no TCP relay (`connectionResets: false`), so a
 * request costs what the simulator itself costs. Prints `bench-simulator: <url>` once it
 * listens; knobs as JSON in the first argument; control over `/__sim/…`; stops on SIGTERM.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/servers/simulator.ts '{"tokenLatencyMs":100}'
 * ```
 *
 * @module
 */
import { type KnobsUpdate, serveSimulator } from "../../dev/simulator/mod.ts";

if (import.meta.main) {
  const knobs = JSON.parse(Deno.args[0] ?? "{}") as KnobsUpdate;
  const served = await serveSimulator({ connectionResets: false, knobs, logSize: 10 });
  console.log(`bench-simulator: ${served.url}`);
  const stop = async () => {
    await served.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
