/**
 * Edge Runtime driver, outer half (runs on Node): evaluates the inner script
 * ({@link ./edge_vm.ts}, bundled) in an `EdgeRuntime` from the `edge-runtime` package, serves
 * its `fetch` event with `runServer`, and prints the scenario's results. Arguments: the inner
 * script's path; `edge-runtime` resolves from the `node_modules` beside this file.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { EdgeRuntime, runServer } from "edge-runtime";
import { ENV_VAR, RESULT_PREFIX } from "./protocol.ts";

const script = process.argv[2];
if (script === undefined) throw new Error("Usage: edge <inner script path>");
const runtime: EdgeRuntime = new EdgeRuntime({
  initialCode: readFileSync(script, "utf8"),
  extend: (context) =>
    Object.assign(context, {
      __aqcHost: {
        serve: async () => {
          const server = await runServer({ runtime, host: "127.0.0.1", port: 0 });
          return { url: server.url.replace(/\/$/, ""), close: () => server.close() };
        },
      },
    }),
});
const json: unknown = await runtime.evaluate(
  `__aqcRun(${JSON.stringify(process.env[ENV_VAR] ?? "{}")})`,
);
console.log(RESULT_PREFIX + String(json));
