/**
 * Edge Runtime driver, inner half: the script evaluated inside Vercel's Edge Runtime
 * (`@edge-runtime/vm`: no `process`, no code generation from strings), bundled as one
 * classic script (`--format iife`) the way Next.js bundles an `export const runtime = "edge"`
 * route. It serves the gateway through the runtime's `fetch` event, which the outer half
 * ({@link ./edge.ts}) exposes over HTTP with `edge-runtime`'s `runServer`.
 *
 * @module
 */
import * as lib from "@aqc-edge/aqc-edge";
import * as gateway from "@aqc-edge/aqc-edge/gateway";
import { Redis } from "@upstash/redis";
import { type CheckResult, runCheck, runScenario, type ScenarioEnv } from "../scenario.ts";
import type { ServedHandler } from "../scenario.ts";

type Handler = (request: Request) => Response | Promise<Response>;

/** The Edge Runtime's `FetchEvent`, as far as the driver uses it. */
interface FetchEventLike {
  request: Request;
  respondWith(response: Response | Promise<Response>): void;
}

/** What the outer half puts into the VM's global scope. */
interface EdgeHost {
  serve(): Promise<ServedHandler>;
}

const scope = globalThis as unknown as {
  addEventListener(type: "fetch", listener: (event: FetchEventLike) => void): void;
  __aqcHost: EdgeHost;
  __aqcRun: (envJson: string) => Promise<string>;
};

let current: Handler | undefined;
scope.addEventListener("fetch", (event) => {
  event.respondWith(
    current === undefined ? new Response("No handler", { status: 503 }) : current(event.request),
  );
});

/** Proves the sandbox is the Edge Runtime's: no `process`, no `eval`. */
function sandbox(): Promise<CheckResult> {
  return runCheck("edge_sandbox", () => {
    if ("process" in globalThis) throw new Error("process is defined");
    let evaluated = true;
    try {
      // deno-lint-ignore no-eval
      (0, eval)("1");
    } catch (error) {
      evaluated = !(error instanceof EvalError);
    }
    if (evaluated) throw new Error("code generation from strings is allowed");
    return Promise.resolve();
  });
}

scope.__aqcRun = async (envJson) => {
  const env = JSON.parse(envJson) as ScenarioEnv;
  const results = await runScenario({
    lib,
    gateway,
    createRedis: (url, token) => new Redis({ url, token, retry: false, enableTelemetry: false }),
    serve: async (handler) => {
      current = handler;
      const served = await scope.__aqcHost.serve();
      return {
        url: served.url,
        close: async () => {
          await served.close();
          current = undefined;
        },
      };
    },
  }, env);
  return JSON.stringify([...results, await sandbox()]);
};
