/**
 * Scenario 4, gateway vs bare proxy under a real load generator (`wrk`). Three contenders
 * on the same runtime (`deno serve`) and the same upstream (the simulator, in its own
 * process), in a different order each round (all six orders over six rounds):
 *
 * - the gateway: `deno serve src/main.ts` (caller auth, token cache, header filtering,
 *   Server-Timing, body limit), warm;
 * - the bare proxy: `bench/servers/bare_proxy.ts` (a fixed token, nothing else);
 * - direct: `wrk` straight at the simulator with the fixed token (the physical limit).
 *
 * Reports requests per second and latency percentiles per contender (medians over rounds)
 * and the gateway's throughput as a fraction of the bare proxy's (goal ≥ 0.9).
 *
 * @module
 */
import { generateGatewayKey } from "../src/gateway/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_OFFICE_ID,
} from "../dev/simulator/mod.ts";
import { SEARCH } from "./lib/contenders.ts";
import { ROOT, type Server, startServer } from "./lib/process.ts";
import { startSimulator } from "./lib/services.ts";
import { median, rotation } from "./lib/stats.ts";
import { writeResult } from "./lib/output.ts";

/** Contender names of the gateway scenario. */
export type ProxyContender = "gateway" | "bare-proxy" | "direct";

/** One `wrk` run. */
export interface WrkRun {
  /** Requests per second. */
  rps: number;
  /** Requests completed. */
  requests: number;
  /** Socket errors, timeouts and non-2xx/3xx answers. */
  errors: number;
  /** Latency percentiles in ms: `[percentile, ms]`. */
  percentiles: [number, number][];
  /** Median latency, ms. */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** 99.9th percentile, ms. */
  p999: number;
}

/** One contender: every round and the medians. */
export interface ProxyContenderResult {
  /** The rounds in order. */
  rounds: WrkRun[];
  /** Medians over rounds (percentiles: median of each percentile). */
  median: WrkRun;
}

/** Result of the gateway scenario. */
export interface GatewayProxyResult {
  /** `wrk` threads, connections and seconds per run. */
  wrk: { threads: number; connections: number; seconds: number; version: string };
  /** Measured rounds. */
  rounds: number;
  /** Per contender. */
  contenders: Record<ProxyContender, ProxyContenderResult>;
  /** Gateway rps / bare proxy rps, per round. */
  throughputRatios: number[];
  /** Median of `throughputRatios`. */
  throughputRatio: number;
}

const CONTENDERS: readonly ProxyContender[] = ["gateway", "bare-proxy", "direct"];
const THREADS = 1;
const CONNECTIONS = 16;

/**
 * Makes sure `wrk` can run: installs it from Debian when it is missing and this is root.
 *
 * @returns `wrk`'s version line.
 * @throws {Error} With the command to run when it cannot be installed here.
 */
export async function ensureWrk(): Promise<string> {
  const version = async () => {
    const out = await new Deno.Command("wrk", { args: ["-v"], stdout: "piped", stderr: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout).split("\n")[0].trim();
  };
  try {
    return await version();
  } catch {
    // Not installed.
  }
  const root = Deno.uid?.() === 0;
  if (!root) {
    throw new Error("wrk is not installed: run `sudo apt-get install -y wrk`, then again");
  }
  console.error("bench: wrk missing, installing it: apt-get install -y wrk");
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "wrk"]]) {
    const out = await new Deno.Command("apt-get", {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `apt-get ${args.join(" ")} failed; install wrk by hand (apt-get install -y wrk):\n` +
          new TextDecoder().decode(out.stderr),
      );
    }
  }
  return await version();
}

async function wrk(url: string, authorization: string, seconds: number): Promise<WrkRun> {
  const out = await new Deno.Command("wrk", {
    args: [
      `-t${THREADS}`,
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      "--timeout",
      "5s",
      "-s",
      `${ROOT}bench/wrk/report.lua`,
      "-H",
      `authorization: ${authorization}`,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!out.success || line === undefined) {
    throw new Error(`wrk failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  const raw = JSON.parse(line.slice("WRK_JSON ".length)) as {
    requests: number;
    durationUs: number;
    errors: Record<string, number>;
    percentilesUs: [number, number][];
  };
  const percentiles = raw.percentilesUs.map(([p, us]) => [p, us / 1000] as [number, number]);
  const at = (p: number) => percentiles.find(([q]) => q === p)?.[1] ?? NaN;
  return {
    rps: raw.requests / (raw.durationUs / 1e6),
    requests: raw.requests,
    errors: Object.values(raw.errors).reduce((a, b) => a + b, 0),
    percentiles,
    p50: at(50),
    p99: at(99),
    p999: at(99.9),
  };
}

function medianRun(runs: WrkRun[]): WrkRun {
  const med = (pick: (run: WrkRun) => number) => median(runs.map(pick));
  return {
    rps: med((r) => r.rps),
    requests: med((r) => r.requests),
    errors: med((r) => r.errors),
    percentiles: runs[0].percentiles.map(([p], i) => [p, med((r) => r.percentiles[i][1])]),
    p50: med((r) => r.p50),
    p99: med((r) => r.p99),
    p999: med((r) => r.p999),
  };
}

async function serve(file: string, env: Record<string, string>): Promise<Server> {
  return await startServer({
    args: [
      "serve",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--allow-net=127.0.0.1,localhost",
      "--allow-env",
      file,
    ],
    env,
    readyPattern: /Listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
}

/**
 * Runs the gateway scenario.
 *
 * @param rounds Measured rounds; default 6 (every order of the three contenders once).
 * @param seconds Seconds per `wrk` run; default 4.
 * @returns Throughput and latency per contender, and the gateway / bare proxy ratio.
 */
export async function runGatewayProxy(rounds = 6, seconds = 4): Promise<GatewayProxyResult> {
  const version = await ensureWrk();
  await using simulator = await startSimulator();
  const fixedToken = await simulator.fixedToken(DEFAULT_OFFICE_ID);
  const { key, entry } = await generateGatewayKey("bench", [DEFAULT_OFFICE_ID]);
  await using gateway = await serve("src/main.ts", {
    AQC_API_URL: simulator.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_OFFICES: DEFAULT_OFFICE_ID,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  });
  await using bare = await serve("bench/servers/bare_proxy.ts", {
    BENCH_UPSTREAM: simulator.url,
    BENCH_TOKEN: fixedToken,
  });
  const targets: Record<ProxyContender, { url: string; authorization: string }> = {
    gateway: {
      url: `${gateway.ready}/aqc/${DEFAULT_OFFICE_ID}${SEARCH}`,
      authorization: `Bearer ${key}`,
    },
    "bare-proxy": {
      url: `${bare.ready}/aqc/${DEFAULT_OFFICE_ID}${SEARCH}`,
      authorization: `Bearer ${key}`,
    },
    direct: { url: `${simulator.url}${SEARCH}`, authorization: `Bearer ${fixedToken}` },
  };
  // Every contender answers the same 200 body before anything is measured.
  const bodies = await Promise.all(CONTENDERS.map(async (name) => {
    const response = await fetch(targets[name].url, {
      headers: { authorization: targets[name].authorization },
    });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${name} answered ${response.status}: ${body}`);
    return body.length;
  }));
  if (new Set(bodies).size !== 1) throw new Error(`Bodies differ in length: ${bodies}`);

  const runs: Record<ProxyContender, WrkRun[]> = { gateway: [], "bare-proxy": [], direct: [] };
  const ratios: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const results: Partial<Record<ProxyContender, WrkRun>> = {};
    for (const name of rotation(CONTENDERS, round)) {
      // Let the previous run's sockets and garbage settle first.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // Round 0 warms every server (JIT, connection pools) and is discarded.
      const run = await wrk(
        targets[name].url,
        targets[name].authorization,
        round === 0 ? 2 : seconds,
      );
      results[name] = run;
      console.error(
        `gateway vs proxy ${round === 0 ? "warm-up" : `round ${round}`} ${name}: ` +
          `${run.rps.toFixed(0)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${
            run.p99.toFixed(2)
          } ms, ` +
          `${run.errors} errors`,
      );
      if (run.errors > 0) throw new Error(`${name}: ${run.errors} errors under load`);
    }
    if (round === 0) continue;
    for (const name of CONTENDERS) runs[name].push(results[name]!);
    ratios.push(results.gateway!.rps / results["bare-proxy"]!.rps);
  }
  const contenders = Object.fromEntries(
    CONTENDERS.map((name) => [name, { rounds: runs[name], median: medianRun(runs[name]) }]),
  ) as Record<ProxyContender, ProxyContenderResult>;
  return {
    wrk: { threads: THREADS, connections: CONNECTIONS, seconds, version },
    rounds,
    contenders,
    throughputRatios: ratios,
    throughputRatio: median(ratios),
  };
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--rounds");
  await writeResult(await runGatewayProxy(at === -1 ? undefined : Number(Deno.args[at + 1])));
}
