/**
 * Scenario 5, the Workers build: the size of the worker bundle (`deno task build:worker`,
 * raw and gzip) and the cold start of the worker in workerd, against an empty worker
 * started the same way (the floor: workerd's own start-up).
 *
 * workerd runs directly (the binary wrangler pins, from Deno's npm cache) with a generated
 * config holding `wrangler.toml`'s compatibility date and flags and the same bindings for both
 * workers, so wrangler's own start-up is not measured. Three starts per round, in alternating
 * order:
 *
 * - aqc-edge, cold start = spawn → first `200` of `GET /healthz` (the gateway is built on that
 *   first request), split at workerd's `listen` event into start-up (workerd, the config, the
 *   script's compile and top-level evaluation) and first request; then the first proxied call
 *   of that warm isolate (its token request to the simulator included);
 * - the empty worker, spawn → first `200`, split the same way;
 * - aqc-edge with a proxied call as its very first request (what a user's first call costs):
 *   spawn → first `200` of `GET /aqc/…`, token request included;
 * - its floor, a bare proxy Worker doing the same I/O (one token request, then the call) with
 *   none of the gateway: spawn → first `200` of the same request.
 *
 * Besides wall time, workerd's CPU time until the first answer (Linux): on a machine shared
 * with other work it moves far less than wall time, so A/B comparisons rest on it.
 *
 * Options: `--rounds N` (default 15), `--bundle path` measures a prebuilt bundle instead of
 * building one (A/B of two builds, e.g. with a dependency stubbed).
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
import { capnpConfig, findWorkerd, readCompatibility, startWorkerd } from "./lib/workerd.ts";

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
  /** 1-minute load average after the run (the machine may be shared). */
  loadAverage?: number;
  /** Cold start of aqc-edge, ms, per round. */
  edgeColdStartMs: number[];
  /** Cold start of the empty worker, ms, per round. */
  emptyColdStartMs: number[];
  /** Spawn → listening (start-up, the script's compile and evaluation), aqc-edge, ms. */
  edgeListenMs?: number[];
  /** Spawn → listening, the empty worker, ms. */
  emptyListenMs?: number[];
  /** First proxied call after the cold start (token request included), ms, per round. */
  edgeFirstCallMs: number[];
  /** Spawn → first 200 of a proxied call as the first request (token request included), ms. */
  edgeColdFirstCallMs?: number[];
  /** The same through the bare proxy Worker (a token request, then the call), ms. */
  bareColdFirstCallMs?: number[];
  /** workerd's CPU time (all threads) from spawn to the first 200 of `/healthz`, aqc-edge, ms. */
  edgeCpuMs?: number[];
  /** The same for the empty worker. */
  emptyCpuMs?: number[];
  /** Medians. */
  median: {
    edgeColdStartMs: number;
    emptyColdStartMs: number;
    edgeFirstCallMs: number;
    edgeListenMs?: number;
    emptyListenMs?: number;
    edgeColdFirstCallMs?: number;
    bareColdFirstCallMs?: number;
    edgeCpuMs?: number;
    emptyCpuMs?: number;
  };
  /** Median of the per-round ratios aqc-edge / empty. */
  coldStartRatio: number;
}

const FREE_PLAN_LIMIT = 3 * 1024 * 1024;
const EMPTY_WORKER = 'export default { fetch() { return new Response("ok"); } };\n';
/**
 * The floor of a first proxied call: the I/O the gateway's does (a client-credentials token
 * request for the office, then the call with that token), streamed back, and nothing else.
 */
const BARE_PROXY_WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, , office] = url.pathname.split("/");
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: env.AQC_CLIENT_ID,
      client_secret: env.AQC_CLIENT_SECRET,
      guest_office_id: office,
    });
    const token = await fetch(env.AQC_API_URL + "/v1/security/oauth2/token", { method: "POST", body });
    const { access_token } = await token.json();
    const path = url.pathname.slice(url.pathname.indexOf("/", 5)) + url.search;
    return fetch(env.AQC_API_URL + path, { headers: { authorization: "Bearer " + access_token } });
  },
};
`;

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

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** One GET; resolves with the ms until its body was read, once it answered 200. */
async function timedGet(url: string, headers: HeadersInit = {}): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return performance.now() - started;
}

function loadAverage(): number | undefined {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return undefined;
  }
}

type Kind = "edge" | "empty" | "edge-first-call" | "bare-first-call";

/**
 * Runs the worker scenario.
 *
 * @param rounds Starts of each kind, alternated; default 15.
 * @param prebuilt A bundle to measure instead of building one.
 * @returns Bundle size and cold starts.
 */
export async function runWorkerColdStart(rounds = 15, prebuilt?: string): Promise<WorkerResult> {
  const tmp = await Deno.makeTempDir({ prefix: "aqc-bench-worker-" });
  try {
    const bytes = await Deno.readFile(prebuilt ?? await buildWorker(tmp));
    const gzipBytes = await gzipSize(bytes);
    const workerd = await findWorkerd();
    const compatibility = await readCompatibility();

    await using simulator = await startSimulator();
    const { key, entry } = await generateGatewayKey("bench", [DEFAULT_OFFICE_ID]);
    // The same bindings for both workers: the floor pays for parsing them too.
    const bindings = {
      AQC_API_URL: simulator.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([entry]),
    };
    const edgeDir = `${tmp}/edge`;
    const emptyDir = `${tmp}/empty`;
    const bareDir = `${tmp}/bare`;
    for (const dir of [edgeDir, emptyDir, bareDir]) await Deno.mkdir(dir);
    await Deno.writeFile(`${edgeDir}/worker.js`, bytes);
    await Deno.writeTextFile(`${emptyDir}/worker.js`, EMPTY_WORKER);
    await Deno.writeTextFile(`${bareDir}/worker.js`, BARE_PROXY_WORKER);
    const proxied = `/aqc/${DEFAULT_OFFICE_ID}/v1/echo/first`;
    const auth = { authorization: `Bearer ${key}` };

    const series = {
      edgeColdStartMs: [] as number[],
      emptyColdStartMs: [] as number[],
      edgeListenMs: [] as number[],
      emptyListenMs: [] as number[],
      edgeFirstCallMs: [] as number[],
      edgeColdFirstCallMs: [] as number[],
      bareColdFirstCallMs: [] as number[],
      edgeCpuMs: [] as number[],
      emptyCpuMs: [] as number[],
    };
    const kinds: Kind[] = ["edge", "empty", "edge-first-call", "bare-first-call"];
    for (let round = 0; round <= rounds; round++) {
      // Rotated, so that no kind always follows the same one.
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]);
      for (const kind of order) {
        const dir = kind === "empty" ? emptyDir : kind === "bare-first-call" ? bareDir : edgeDir;
        const port = freePort();
        await Deno.writeTextFile(`${dir}/config.capnp`, capnpConfig(port, compatibility, bindings));
        const base = `http://127.0.0.1:${port}`;
        const started = await startWorkerd(workerd.path, `${dir}/config.capnp`);
        try {
          const path = kind === "edge" ? "/healthz" : kind === "empty" ? "/" : proxied;
          await timedGet(`${base}${path}`, kind === "edge-first-call" ? auth : {});
          const coldMs = performance.now() - started.spawnedAt;
          const cpuMs = started.cpuMs() ?? NaN;
          const firstCall = kind === "edge" ? await timedGet(`${base}${proxied}`, auth) : NaN;
          // Round 0 warms the page cache and is discarded.
          if (round > 0) {
            if (kind === "edge") {
              series.edgeColdStartMs.push(coldMs);
              series.edgeListenMs.push(started.listenMs);
              series.edgeFirstCallMs.push(firstCall);
              series.edgeCpuMs.push(cpuMs);
            } else if (kind === "empty") {
              series.emptyColdStartMs.push(coldMs);
              series.emptyListenMs.push(started.listenMs);
              series.emptyCpuMs.push(cpuMs);
            } else if (kind === "edge-first-call") series.edgeColdFirstCallMs.push(coldMs);
            else series.bareColdFirstCallMs.push(coldMs);
          }
          console.error(
            `workerd ${round === 0 ? "warm-up" : `round ${round}`} ${kind}: ` +
              `${coldMs.toFixed(1)} ms (listening at ${started.listenMs.toFixed(1)} ms, ` +
              `${cpuMs.toFixed(1)} ms CPU)` +
              (kind === "edge" ? `, then first call ${firstCall.toFixed(1)} ms` : ""),
          );
        } finally {
          await started.stop();
        }
      }
    }
    const ratios = series.edgeColdStartMs.map((ms, i) => ms / series.emptyColdStartMs[i]);
    const load = loadAverage();
    return {
      bundle: { rawBytes: bytes.length, gzipBytes, freePlanLimitBytes: FREE_PLAN_LIMIT },
      workerdVersion: workerd.version,
      rounds,
      ...(load === undefined ? {} : { loadAverage: load }),
      ...series,
      median: {
        edgeColdStartMs: median(series.edgeColdStartMs),
        emptyColdStartMs: median(series.emptyColdStartMs),
        edgeFirstCallMs: median(series.edgeFirstCallMs),
        edgeListenMs: median(series.edgeListenMs),
        emptyListenMs: median(series.emptyListenMs),
        edgeColdFirstCallMs: median(series.edgeColdFirstCallMs),
        bareColdFirstCallMs: median(series.bareColdFirstCallMs),
        edgeCpuMs: median(series.edgeCpuMs),
        emptyCpuMs: median(series.emptyCpuMs),
      },
      coldStartRatio: median(ratios),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  const option = (name: string) => {
    const at = Deno.args.indexOf(name);
    return at === -1 ? undefined : Deno.args[at + 1];
  };
  const rounds = option("--rounds");
  await writeResult(
    await runWorkerColdStart(rounds ? Number(rounds) : undefined, option("--bundle")),
  );
}
