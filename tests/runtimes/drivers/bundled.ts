/**
 * What the Node and Bun drivers share: they load the `deno bundle` output of the entries by
 * URL (as a consumer imports a built package), read the scenario environment, run the
 * scenario with the runtime's own server and print the result line.
 *
 * @module
 */
import process from "node:process";
import { Redis } from "@upstash/redis";
import type * as Library from "../../../src/mod.ts";
import type * as Gateway from "../../../src/gateway/mod.ts";
import { type Platform, runScenario, type ScenarioEnv } from "../scenario.ts";
import { ENV_VAR, resultLine } from "./protocol.ts";

/**
 * Runs the scenario on the bundle in the directory whose file URL is the first argument,
 * serving the gateway with `serve`.
 */
export async function runBundled(serve: NonNullable<Platform["serve"]>): Promise<void> {
  const bundleDir = process.argv[2];
  if (bundleDir === undefined) throw new Error("Usage: driver <bundle directory URL>");
  const lib = await import(new URL("mod.js", bundleDir).href) as typeof Library;
  const gateway = await import(new URL("gateway/mod.js", bundleDir).href) as typeof Gateway;
  const env = JSON.parse(process.env[ENV_VAR] ?? "{}") as ScenarioEnv;
  const results = await runScenario({
    lib,
    gateway,
    createRedis: (url, token) => new Redis({ url, token, retry: false, enableTelemetry: false }),
    serve,
  }, env);
  console.log(resultLine(results));
}
