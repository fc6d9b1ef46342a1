/**
 * Deno driver: the scenario on the library source, as a Deno Deploy / Supabase / Netlify
 * function imports it, with `Deno.serve` for the gateway. Run by the runner with narrow
 * permissions (loopback network, the one scenario variable).
 *
 * @module
 */
import * as lib from "@aqc-edge/aqc-edge";
import * as gateway from "@aqc-edge/aqc-edge/gateway";
import { Redis } from "@upstash/redis";
import { runScenario, type ScenarioEnv } from "../scenario.ts";
import { ENV_VAR, resultLine } from "./protocol.ts";

const env = JSON.parse(Deno.env.get(ENV_VAR) ?? "{}") as ScenarioEnv;
const results = await runScenario({
  lib,
  gateway,
  createRedis: (url, token) => new Redis({ url, token, retry: false, enableTelemetry: false }),
  serve: (handler) => {
    const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: resolve }, handler);
    return promise.then((addr) => ({
      url: `http://127.0.0.1:${addr.port}`,
      close: () => server.shutdown(),
    }));
  },
}, env);
console.log(resultLine(results));
