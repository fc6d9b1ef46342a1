/**
 * `deno task bench:soak`: the gateway's memory under steady load. The gateway
 * (`bench/servers/soak_gateway.ts`: `src/main.ts` under `Deno.serve`) proxies to the
 * simulator (own process) while `wrk` (1 thread, 8 connections) calls it without pause for
 * the whole run; the gateway samples its heap and RSS every second (and the heap after a
 * full GC every fifth second). Writes `bench/soak.json` and the plot `bench/soak.svg`.
 *
 * Verdict: after a warm-up (the first 10%, at least 30 s), the median retained heap (after
 * GC) of the last fifth of the run against that of the first fifth; "flat" = within 5%.
 *
 * Options: `--minutes N` (default 10; fractions allowed), `--out file` (JSON elsewhere).
 *
 * @module
 */
import { generateGatewayKey } from "../src/gateway/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_OFFICE_ID,
} from "../dev/simulator/mod.ts";
import { ensureWrk } from "./gateway_proxy.ts";
import { SEARCH } from "./lib/contenders.ts";
import { ROOT, runCommand, startServer } from "./lib/process.ts";
import { startSimulator } from "./lib/services.ts";
import { median } from "./lib/stats.ts";
import { renderChart, type Tick } from "./lib/svg.ts";

/** One memory sample of the gateway process. */
export interface MemorySample {
  /** ms since the gateway started. */
  t: number;
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** V8 heap reserved, bytes. */
  heapTotal: number;
  /** Resident set size, bytes. */
  rss: number;
  /** Memory outside the V8 heap (buffers), bytes. */
  external: number;
  /** Heap in use right after a full GC (every fifth sample), bytes. */
  heapAfterGc?: number;
}

/** Result of the soak. */
export interface SoakResult {
  /** When it ran. */
  generatedAt: string;
  /** Requested duration. */
  minutes: number;
  /** Load average before and after. */
  load: { before: number[]; after: number[] };
  /** What `wrk` did. */
  wrk: { requests: number; errors: number; rps: number; connections: number };
  /** Every sample. */
  samples: MemorySample[];
  /** First and last fifth after the warm-up, medians in bytes, and growth in %. */
  verdict: {
    warmupSeconds: number;
    heapAfterGc: { first: number; last: number; growthPercent: number };
    rss: { first: number; last: number; growthPercent: number };
    flat: boolean;
  };
}

const CONNECTIONS = 8;

const USAGE = `Usage: deno task bench:soak [--minutes N] [--out file]

The gateway's memory under steady wrk load: heap and RSS sampled every second, the heap after
a full GC every fifth. Writes bench/soak.json and bench/soak.svg (or --out file), then
re-render RESULTS.md with: deno task bench --render.

  --minutes N  how long (default 10; fractions allowed)
  --out file   write the JSON elsewhere (the plot is still bench/soak.svg)
  --help       this text`;

function option(name: string): string | undefined {
  const at = Deno.args.indexOf(name);
  return at === -1 ? undefined : Deno.args[at + 1];
}

function load(): number[] {
  try {
    return Deno.loadavg().map((l) => Math.round(l * 100) / 100);
  } catch {
    return [];
  }
}

/** Medians of the first and last fifth of `values`, and the growth from one to the other. */
function drift(values: number[]): { first: number; last: number; growthPercent: number } {
  const fifth = Math.max(1, Math.floor(values.length / 5));
  const first = median(values.slice(0, fifth));
  const last = median(values.slice(-fifth));
  return { first, last, growthPercent: Math.round(((last - first) / first) * 1000) / 10 };
}

function ticks(max: number, step: number, label: (v: number) => string): Tick[] {
  const out: Tick[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push({ value: v, label: label(v) });
  return out;
}

function niceStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

/** The plot: heap (in use, after GC) and RSS over time, in MB. */
export function renderSoakSvg(result: SoakResult): string {
  const mb = (bytes: number) => bytes / 1_048_576;
  const seconds = result.samples.map((s) => s.t / 1000);
  const xMax = Math.max(1, ...seconds);
  const xStep = niceStep(xMax, 8);
  const panel = (
    title: string,
    series: { name: string; color: string; values: (number | undefined)[] }[],
  ) => {
    const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
    const yMax = Math.max(1, ...all.map(mb)) * 1.15;
    const yStep = niceStep(yMax, 5);
    return {
      title,
      xLabel: "seconds under load",
      yLabel: "MB",
      x: [0, xMax] as [number, number],
      y: [0, yMax] as [number, number],
      xTicks: ticks(xMax, xStep, (v) => `${Math.round(v)}`),
      yTicks: ticks(yMax, yStep, (v) => `${Math.round(v * 10) / 10}`),
      series: series.map((s) => ({
        name: s.name,
        color: s.color,
        points: s.values.map((v, i): [number, number | null] => [
          seconds[i],
          v === undefined ? null : mb(v),
        ]).filter(([, y]) => y !== null),
      })),
      markers: {
        values: [result.verdict.warmupSeconds],
        label: "end of warm-up",
        color: "#999",
      },
    };
  };
  const v = result.verdict;
  return renderChart([
    panel("Gateway V8 heap under steady wrk load", [
      { name: "heap used", color: "#4e79a7", values: result.samples.map((s) => s.heapUsed) },
      {
        name: "heap after GC",
        color: "#e15759",
        values: result.samples.map((s) => s.heapAfterGc),
      },
    ]),
    panel("Gateway resident set size", [
      { name: "RSS", color: "#59a14f", values: result.samples.map((s) => s.rss) },
    ]),
  ], {
    caption:
      `${result.generatedAt}: ${result.wrk.requests} requests (${
        Math.round(result.wrk.rps)
      } req/s), heap after GC ${v.heapAfterGc.growthPercent}% and RSS ${v.rss.growthPercent}% ` +
      `from the first to the last fifth after warm-up; load ${result.load.before.join(" / ")}`,
  });
}

if (import.meta.main && (Deno.args.includes("--help") || Deno.args.includes("-h"))) {
  console.log(USAGE);
  Deno.exit(0);
}

if (import.meta.main) {
  const minutes = Number(option("--minutes") ?? 10);
  if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
  const seconds = Math.max(10, Math.round(minutes * 60));
  const before = load();
  await ensureWrk();
  await using simulator = await startSimulator();
  const { key, entry } = await generateGatewayKey("soak", [DEFAULT_OFFICE_ID]);
  await using gateway = await startServer({
    args: [
      "run",
      "--allow-net=127.0.0.1,localhost",
      "--allow-env",
      "--v8-flags=--expose-gc",
      "bench/servers/soak_gateway.ts",
    ],
    env: {
      AQC_API_URL: simulator.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_OFFICES: DEFAULT_OFFICE_ID,
      AQC_GATEWAY_KEYS: JSON.stringify([entry]),
    },
    readyPattern: /soak-gateway: (http:\/\/127\.0\.0\.1:\d+)/,
  });
  const url = `${gateway.ready}/aqc/${DEFAULT_OFFICE_ID}${SEARCH}`;
  const probe = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  await probe.body?.cancel();
  if (probe.status !== 200) throw new Error(`gateway answered ${probe.status}`);
  console.error(`soak: ${seconds} s of wrk -c${CONNECTIONS} against the gateway, load ${before}`);
  const out = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      "--timeout",
      "5s",
      "-s",
      `${ROOT}bench/wrk/report.lua`,
      "-H",
      `authorization: Bearer ${key}`,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!out.success || line === undefined) throw new Error(`wrk failed:\n${text}`);
  const report = JSON.parse(line.slice("WRK_JSON ".length)) as {
    requests: number;
    durationUs: number;
    errors: Record<string, number>;
  };
  // The samples printed so far (one a second); the server stops with this scope.
  const samples = gateway.output().split("\n")
    .filter((l) => l.startsWith("soak-memory "))
    .map((l) => JSON.parse(l.slice("soak-memory ".length)) as MemorySample);
  const warmupSeconds = Math.max(30, seconds / 10);
  const steady = samples.filter((s) => s.t / 1000 >= warmupSeconds);
  const gcValues = steady.flatMap((s) => s.heapAfterGc === undefined ? [] : [s.heapAfterGc]);
  if (gcValues.length < 2) throw new Error("Too few samples after the warm-up: run longer");
  const heapAfterGc = drift(gcValues);
  const rss = drift(steady.map((s) => s.rss));
  const result: SoakResult = {
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    minutes,
    load: { before, after: load() },
    wrk: {
      requests: report.requests,
      errors: Object.values(report.errors).reduce((a, b) => a + b, 0),
      rps: report.requests / (report.durationUs / 1e6),
      connections: CONNECTIONS,
    },
    samples,
    verdict: {
      warmupSeconds,
      heapAfterGc,
      rss,
      // The goal is "no growth": a heap that shrinks after warm-up (caches settling, less
      // fragmentation) is not a leak, so only growth above 5% fails the verdict.
      flat: heapAfterGc.growthPercent <= 5,
    },
  };
  const target = option("--out") ?? `${ROOT}bench/soak.json`;
  await Deno.writeTextFile(target, JSON.stringify(result, null, 2) + "\n");
  await Deno.writeTextFile(`${ROOT}bench/soak.svg`, renderSoakSvg(result));
  // In deno fmt's style, so that `deno task check` stays green with the outputs committed.
  await runCommand(Deno.execPath(), ["fmt", "--quiet", target, `${ROOT}bench/soak.svg`]);
  console.error(
    `soak: ${result.wrk.requests} requests, ${result.wrk.errors} errors; heap after GC ` +
      `${(heapAfterGc.first / 1e6).toFixed(2)} → ${(heapAfterGc.last / 1e6).toFixed(2)} MB ` +
      `(${heapAfterGc.growthPercent}%), RSS ${(rss.first / 1e6).toFixed(1)} → ${
        (rss.last / 1e6).toFixed(1)
      } MB (${rss.growthPercent}%): ${result.verdict.flat ? "flat" : "NOT flat"}`,
  );
}
