/**
 * Scenario 5, the Workers build: the size of the worker bundle (`deno task build:worker`,
 * raw and gzip) and the cold start of the worker in workerd, against an empty worker
 * started the same way (the floor: workerd's own start-up).
 *
 * workerd runs directly (the binary wrangler pins, from Deno's npm cache) with a generated
 * config, so wrangler's own start-up is not measured. Cold start = from spawning workerd to
 * the first `200` of `GET /healthz` (the gateway is built on that first request); then the
 * first proxied call, which includes the first token request to the simulator.
 *
 * @module
 */
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_OFFICE_ID,
} from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { ROOT, runCommand } from "./lib/process.ts";
import { startSimulator } from "./lib/services.ts";
import { median } from "./lib/stats.ts";
import { writeResult } from "./lib/output.ts";

/** Result of the worker scenario. */
export interface WorkerResult {
  /** `dist/worker.js` as `build:worker` makes it. */
  bundle: {
    /** Bytes. */
    rawBytes: number;
    /** Bytes after gzip. */
    gzipBytes: number;
    /** Cloudflare's limit for a Worker after compression on the free plan (3 MiB). */
    freePlanLimitBytes: number;
  };
  /** workerd version used. */
  workerdVersion: string;
  /** Measured starts per worker. */
  rounds: number;
  /** Cold start of aqc-edge, ms, per round. */
  edgeColdStartMs: number[];
  /** Cold start of the empty worker, ms, per round. */
  emptyColdStartMs: number[];
  /** First proxied call after the cold start (token request included), ms, per round. */
  edgeFirstCallMs: number[];
  /** Medians. */
  median: { edgeColdStartMs: number; emptyColdStartMs: number; edgeFirstCallMs: number };
  /** Median of the per-round ratios aqc-edge / empty. */
  coldStartRatio: number;
}

const FREE_PLAN_LIMIT = 3 * 1024 * 1024;
const EMPTY_WORKER = 'export default { fetch() { return new Response("ok"); } };\n';

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * Builds the worker exactly as `deno task build:worker` does, into `outDir`.
 *
 * @param outDir Where to write `worker.js`.
 * @returns The bundle's path.
 */
async function buildWorker(outDir: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    tasks: Record<string, string>;
  };
  const task = config.tasks["build:worker"];
  const output = `${outDir}/worker.js`;
  const args = task.split(/\s+/).slice(1).map((arg) => arg === "dist/worker.js" ? output : arg);
  if (!args.includes(output)) throw new Error(`Unexpected build:worker task: ${task}`);
  await runCommand(Deno.execPath(), args);
  return output;
}

/**
 * The workerd binary wrangler uses, from Deno's npm cache (fetched there once if missing).
 *
 * @returns Its path and version.
 */
async function findWorkerd(): Promise<{ path: string; version: string }> {
  const lock = await Deno.readTextFile(`${ROOT}deno.lock`);
  const version = /"workerd@([0-9.]+)"/.exec(lock)?.[1];
  if (version === undefined) {
    throw new Error("workerd is not in deno.lock (it comes with wrangler)");
  }
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "64";
  const os = Deno.build.os === "darwin" ? "darwin" : "linux";
  const info = JSON.parse(await runCommand(Deno.execPath(), ["info", "--json"])) as {
    npmCache: string;
  };
  const path =
    `${info.npmCache}/registry.npmjs.org/@cloudflare/workerd-${os}-${arch}/${version}/bin/workerd`;
  const exists = () => Deno.stat(path).then(() => true, () => false);
  if (!(await exists())) {
    const wrangler = /WRANGLER_SPECIFIER = "([^"]+)"/.exec(
      await Deno.readTextFile(`${ROOT}tests/helpers/workerd.ts`),
    )?.[1] ?? "npm:wrangler@4.86.0";
    console.error(`bench: fetching workerd (deno cache ${wrangler})`);
    await runCommand(Deno.execPath(), ["cache", wrangler]);
    if (!(await exists())) throw new Error(`workerd not found at ${path}`);
  }
  return { path, version };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function capnp(port: number, compatibilityDate: string, bindings: Record<string, string>) {
  const text = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(compatibilityDate)},
  bindings = [${text}],
);
`;
}

/** Starts workerd on `dir/config.capnp`; resolves with the ms until `path` answers 200. */
async function coldStart(
  workerd: string,
  dir: string,
  port: number,
  path: string,
): Promise<{ ms: number; child: Deno.ChildProcess }> {
  const started = performance.now();
  const child = new Deno.Command(workerd, {
    args: ["serve", `${dir}/config.capnp`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const deadline = started + 20_000;
  while (performance.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.body?.cancel();
      if (response.status === 200) return { ms: performance.now() - started, child };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  child.kill("SIGKILL");
  const stderr = new TextDecoder().decode((await child.output()).stderr);
  throw new Error(`workerd did not answer ${path} within 20 s:\n${stderr}`);
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await child.stderr.cancel();
  await child.status;
}

/**
 * Runs the worker scenario.
 *
 * @param rounds Starts per worker, alternated; default 9.
 * @returns Bundle size and cold starts.
 */
export async function runWorkerColdStart(rounds = 9): Promise<WorkerResult> {
  const tmp = await Deno.makeTempDir({ prefix: "aqc-bench-worker-" });
  try {
    const bundlePath = await buildWorker(tmp);
    const bytes = await Deno.readFile(bundlePath);
    const gzipBytes = await gzipSize(bytes);
    const workerd = await findWorkerd();
    const wranglerToml = await Deno.readTextFile(`${ROOT}wrangler.toml`);
    const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(wranglerToml)?.[1];
    if (compatibilityDate === undefined) throw new Error("No compatibility_date in wrangler.toml");

    await using simulator = await startSimulator();
    const { key, entry } = await generateGatewayKey("bench", [DEFAULT_OFFICE_ID]);
    const edgeDir = `${tmp}/edge`;
    const emptyDir = `${tmp}/empty`;
    await Deno.mkdir(edgeDir);
    await Deno.mkdir(emptyDir);
    await Deno.writeFile(`${edgeDir}/worker.js`, bytes);
    await Deno.writeTextFile(`${emptyDir}/worker.js`, EMPTY_WORKER);

    const edgeColdStartMs: number[] = [];
    const emptyColdStartMs: number[] = [];
    const edgeFirstCallMs: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      for (const kind of round % 2 === 0 ? ["edge", "empty"] : ["empty", "edge"]) {
        const port = freePort();
        const dir = kind === "edge" ? edgeDir : emptyDir;
        await Deno.writeTextFile(
          `${dir}/config.capnp`,
          capnp(
            port,
            compatibilityDate,
            kind === "edge"
              ? {
                AQC_API_URL: simulator.url,
                AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
                AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
                AQC_GATEWAY_KEYS: JSON.stringify([entry]),
              }
              : {},
          ),
        );
        const { ms, child } = await coldStart(
          workerd.path,
          dir,
          port,
          kind === "edge" ? "/healthz" : "/",
        );
        try {
          let firstCall = NaN;
          if (kind === "edge") {
            const started = performance.now();
            const response = await fetch(
              `http://127.0.0.1:${port}/aqc/${DEFAULT_OFFICE_ID}/v1/echo/first`,
              {
                headers: { authorization: `Bearer ${key}` },
              },
            );
            await response.body?.cancel();
            if (response.status !== 200) throw new Error(`First call answered ${response.status}`);
            firstCall = performance.now() - started;
          }
          // Round 0 warms the page cache and is discarded.
          if (round > 0) {
            if (kind === "edge") {
              edgeColdStartMs.push(ms);
              edgeFirstCallMs.push(firstCall);
            } else emptyColdStartMs.push(ms);
          }
          console.error(
            `workerd ${round === 0 ? "warm-up" : `round ${round}`} ${kind}: cold start ` +
              `${ms.toFixed(0)} ms${
                kind === "edge" ? `, first call ${firstCall.toFixed(1)} ms` : ""
              }`,
          );
        } finally {
          await stop(child);
        }
      }
    }
    const ratios = edgeColdStartMs.map((ms, i) => ms / emptyColdStartMs[i]);
    return {
      bundle: { rawBytes: bytes.length, gzipBytes, freePlanLimitBytes: FREE_PLAN_LIMIT },
      workerdVersion: workerd.version,
      rounds,
      edgeColdStartMs,
      emptyColdStartMs,
      edgeFirstCallMs,
      median: {
        edgeColdStartMs: median(edgeColdStartMs),
        emptyColdStartMs: median(emptyColdStartMs),
        edgeFirstCallMs: median(edgeFirstCallMs),
      },
      coldStartRatio: median(ratios),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) await writeResult(await runWorkerColdStart());
