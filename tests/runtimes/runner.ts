/**
 * The cross-runtime runner: builds the bundles once, runs each runtime's driver as a child
 * process against a fresh simulator (so its counters are the driver's alone) and one local
 * Upstash, collects the JSON results and renders the runtime × check table.
 *
 * Bundles (all from `deno bundle`, in one temporary directory):
 * - `lib/`: the {@link ENTRIES} as ESM with a shared chunk, what Node and Bun import;
 * - `drivers/`: the Node, Bun and Edge-host drivers (npm packages bundled, except
 *   `edge-runtime`, which resolves from a `node_modules` laid out by `deno install`);
 * - `edge_vm.js`: the Edge Runtime's inner script, one classic script.
 *
 * @module
 */
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  serveSimulator,
} from "../../dev/simulator/mod.ts";
import { generateGatewayKey, generateTokenKey } from "../../src/gateway/mod.ts";
import { ENTRIES } from "./entries.ts";
import { ENV_VAR, parseResults } from "./drivers/protocol.ts";
import type { ScenarioEnv } from "./scenario.ts";
import type { RuntimeRun } from "./table.ts";
import { PROJECT_ROOT } from "../helpers/workerd.ts";

/** Pinned runtimes from npm (also in deno.json imports, so recorded in deno.lock). */
export const BUN_VERSION = "1.4.4";

const DRIVER_TIMEOUT_MS = 90_000;
const MAX_OUTPUT_CHARS = 200_000;

export type { RuntimeRun } from "./table.ts";

/** Paths of the built bundles. */
export interface Bundles {
  /** Directory of `mod.js` and `gateway/mod.js`, as a file URL with a trailing slash. */
  libUrl: string;
  /** Node driver, Bun driver, Edge Runtime host driver. */
  node: string;
  bun: string;
  edgeHost: string;
  /** The Edge Runtime's inner script. */
  edgeVm: string;
}

async function run(
  program: string,
  args: string[],
  options: {
    cwd?: string | undefined;
    env?: Record<string, string> | undefined;
    clearEnv?: boolean | undefined;
  } = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd ?? PROJECT_ROOT,
    ...(options.env === undefined ? {} : { env: options.env }),
    clearEnv: options.clearEnv ?? false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, DRIVER_TIMEOUT_MS);
  try {
    const { code, stdout, stderr } = await child.output();
    const decoder = new TextDecoder();
    const output = `${decoder.decode(stdout)}\n${decoder.decode(stderr)}`;
    return { code, output: output.slice(-MAX_OUTPUT_CHARS) };
  } finally {
    clearTimeout(timer);
  }
}

export async function must(
  what: string,
  program: string,
  args: string[],
  cwd?: string,
): Promise<void> {
  const { code, output } = await run(program, args, { cwd });
  if (code !== 0) throw new Error(`${what} failed (${code}):\n${output}`);
}

/** The `bun` binary shipped in the npm package `@oven/bun-linux-x64` (cached by Deno). */
export async function bunBinary(): Promise<string> {
  // The platform package is an optional dependency of `bun`; caching `bun` brings it.
  await must("deno cache npm:bun", Deno.execPath(), ["cache", `npm:bun@${BUN_VERSION}`]);
  const { output } = await run(Deno.execPath(), ["info", "--json"]);
  const npmCache = (JSON.parse(output.slice(0, output.lastIndexOf("}") + 1)) as {
    npmCache: string;
  }).npmCache;
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x64";
  return `${npmCache}/registry.npmjs.org/@oven/bun-${Deno.build.os}-${arch}/${BUN_VERSION}/bin/bun`;
}

/**
 * Lays out `node_modules/edge-runtime` in `dir` with `deno install`, from the committed
 * `edge_runtime/package.json` and its frozen `deno.lock` (every transitive version pinned).
 */
export async function installEdgeRuntime(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const file of ["package.json", "deno.lock"]) {
    await Deno.copyFile(`${PROJECT_ROOT}tests/runtimes/edge_runtime/${file}`, `${dir}/${file}`);
  }
  await must("install edge-runtime", Deno.execPath(), [
    "install",
    "--quiet",
    "--node-modules-dir=auto",
    "--frozen",
  ], dir);
}

/** Builds every bundle into `dir` (three `deno bundle` runs and one `deno install`). */
export async function buildBundles(dir: string): Promise<Bundles> {
  const here = "tests/runtimes/drivers";
  const bundle = [Deno.execPath(), "bundle", "--quiet"];
  await Deno.mkdir(`${dir}/drivers`, { recursive: true });
  const [program, ...prefix] = bundle;
  await Promise.all([
    must("bundle the entries", program, [
      ...prefix,
      "--platform",
      "browser",
      "--format",
      "esm",
      "--code-splitting",
      "--outdir",
      `${dir}/lib`,
      ...Object.values(ENTRIES),
    ]),
    must("bundle the drivers", program, [
      ...prefix,
      "--platform",
      "deno",
      "--format",
      "esm",
      "--external",
      "edge-runtime",
      "--outdir",
      `${dir}/drivers`,
      `${here}/node.ts`,
      `${here}/bun.ts`,
      `${here}/edge.ts`,
    ]),
    must("bundle the Edge Runtime script", program, [
      ...prefix,
      "--platform",
      "browser",
      "--format",
      "iife",
      "--output",
      `${dir}/edge_vm.js`,
      `${here}/edge_vm.ts`,
    ]),
    installEdgeRuntime(`${dir}/drivers`),
  ]);
  // The bundles are ESM; `.mjs` would do too, but `type: module` above covers `.js`.
  return {
    libUrl: new URL(`file://${dir}/lib/`).href,
    node: `${dir}/drivers/node.js`,
    bun: `${dir}/drivers/bun.js`,
    edgeHost: `${dir}/drivers/edge.js`,
    edgeVm: `${dir}/edge_vm.js`,
  };
}

/** The environment of one runtime's scenario, with a fresh gateway key. */
export async function scenarioEnv(
  simUrl: string,
  upstash: { url: string; token: string },
): Promise<ScenarioEnv> {
  const { key, entry } = await generateGatewayKey("runtimes", ["*"]);
  return {
    simUrl,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
    upstashUrl: upstash.url,
    upstashToken: upstash.token,
    tokenKey: generateTokenKey(),
    gatewayKey: key,
    gatewayKeysJson: JSON.stringify([entry]),
  };
}

/**
 * Runs one driver process against a fresh simulator: `command` gets the scenario environment
 * in {@link ENV_VAR} (and PATH/HOME only, so nothing else of the test run leaks in).
 */
export async function runDriver(
  runtime: string,
  upstash: { url: string; token: string },
  program: string,
  args: string[],
  cwd?: string,
): Promise<RuntimeRun> {
  await using served = await serveSimulator();
  const env = await scenarioEnv(served.url, upstash);
  const { code, output } = await run(program, args, {
    cwd,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      // A Deno child (the Deno driver, `deno serve`) must find the same module cache.
      ...passThrough("DENO_DIR"),
      [ENV_VAR]: JSON.stringify(env),
    },
  });
  const results = parseResults(output) ?? [];
  if (results.length === 0) {
    results.push({ name: "import", ok: false, detail: `exited with ${code}, no results` });
  }
  return { runtime, results, output: redact(output, env) };
}

/** Removes the scenario's secrets from driver output before it is shown. */
export function redact(text: string, env: ScenarioEnv): string {
  let result = text;
  for (const secret of [env.upstashToken, env.tokenKey, env.gatewayKey, env.clientSecret]) {
    result = result.replaceAll(secret, "[redacted]");
  }
  return result;
}

/** `{ [name]: value }` when the test run has `name` set, else nothing. */
function passThrough(name: string): Record<string, string> {
  const value = Deno.env.get(name);
  return value === undefined ? {} : { [name]: value };
}
