/**
 * Turns `bench/results.json` into `bench/RESULTS.md` (tables) and `bench/latency.svg`
 * (latency distributions and p99 around token rollovers).
 *
 * @module
 */
import type { ColdHerdResult, HerdContender } from "../cold_herd.ts";
import type { SteadyContender, SteadyStateResult } from "../steady_state.ts";
import type { GatewayProxyResult, ProxyContender } from "../gateway_proxy.ts";
import type { WorkerResult } from "../worker_cold_start.ts";
import type { SoakResult } from "../soak.ts";
import type { HotPathResult } from "./hot_path.ts";
import { type Panel, renderChart, type Series } from "./svg.ts";
import { median } from "./stats.ts";

/** Everything `deno task bench` measured. */
export interface BenchResults {
  /** ISO time the run finished. */
  generatedAt: string;
  /** Where it ran. */
  environment: {
    /** Deno version. */
    deno: string;
    /** V8 version. */
    v8: string;
    /** `os/arch`. */
    platform: string;
    /** Logical CPUs. */
    cpus: number;
    /** 1/5/15-minute load averages before the run. */
    loadBefore: number[];
    /** The same after the run. */
    loadAfter: number[];
  };
  /** Wall time of the whole run, s. */
  totalSeconds: number;
  /** Wall time per scenario, s. */
  scenarioSeconds: Record<string, number>;
  /** Scenario 1. */
  coldHerd?: ColdHerdResult;
  /** Scenario 2. */
  steadyState?: SteadyStateResult;
  /** Scenario 3. */
  hotPath?: HotPathResult;
  /** Scenario 4. */
  gatewayProxy?: GatewayProxyResult;
  /** Scenario 5. */
  worker?: WorkerResult;
}

const COLORS = {
  edge: "#d9480f",
  bare: "#1971c2",
  direct: "#2b8a3e",
  sdk: "#862e9c",
  local: "#868e96",
};

function num(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return "–";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return value.toFixed(Math.min(decimals, 4));
}

function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "–";
}

function ms(value: number): string {
  return Number.isFinite(value) ? `${num(value)} ms` : "–";
}

function times(value: number): string {
  return Number.isFinite(value) ? `${num(value)}×` : "–";
}

function ns(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return value >= 1000 ? `${num(value / 1000)} µs` : `${num(value)} ns`;
}

function bytes(value: number): string {
  return value >= 1024 ? `${num(value / 1024)} KiB` : `${value} B`;
}

function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? "---" : "---:"));
  return [header, align, ...rows].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

const HERD_NAMES: Record<HerdContender, string> = {
  "aqc-edge": "aqc-edge (Upstash L2)",
  "amadeus-sdk": "Amadeus Node SDK",
  "per-isolate": "per-isolate cache",
};
const STEADY_NAMES: Record<SteadyContender, string> = {
  "aqc-edge": "aqc-edge (Upstash L2)",
  "per-isolate": "per-isolate cache",
  "amadeus-sdk": "Amadeus Node SDK",
  "fixed-token": "floor: fetch, fixed token",
};
const PROXY_NAMES: Record<ProxyContender, string> = {
  gateway: "aqc-edge gateway",
  "bare-proxy": "bare proxy",
  direct: "direct (no proxy)",
};

/** The headline table: each comparison, its result and its goal or limit. */
function headline(results: BenchResults): string {
  const rows: string[][] = [];
  const herd = results.coldHerd;
  if (herd) {
    const c = herd.contenders;
    rows.push([
      `Cold herd (${herd.isolates} isolates × ${herd.callsPerIsolate} calls): token requests`,
      `aqc-edge **${count(c["aqc-edge"].median.tokenRequests)}**, SDK ${
        count(c["amadeus-sdk"].median.tokenRequests)
      }, per-isolate ${count(c["per-isolate"].median.tokenRequests)}`,
      "limit 1",
    ]);
  }
  const steady = results.steadyState;
  if (steady) {
    const c = steady.contenders;
    rows.push([
      "Steady state: Redis commands per warm call (aqc-edge)",
      `**${num(c["aqc-edge"].redisCommandsPerWarmCall)}** (all calls: ${
        num(c["aqc-edge"].redisCommandsPerCall)
      })`,
      "goal 0",
    ]);
    rows.push([
      "Steady state: token requests per office per lifetime (after the cold start)",
      `aqc-edge **${num(c["aqc-edge"].tokenRequestsPerLifetime)}**, per-isolate ${
        num(c["per-isolate"].tokenRequestsPerLifetime)
      }, SDK ${num(c["amadeus-sdk"].tokenRequestsPerLifetime)}`,
      `limit 1 (refresh ahead: ${
        num(steady.lifetimeSeconds / (steady.lifetimeSeconds - steady.refreshLeadSeconds))
      } by design)`,
    ]);
    rows.push([
      "Steady state: p99 around rollovers ÷ steady p99",
      `aqc-edge **${times(c["aqc-edge"].rolloverRatio)}**, per-isolate ${
        times(c["per-isolate"].rolloverRatio)
      }, SDK ${times(c["amadeus-sdk"].rolloverRatio)}`,
      "1×",
    ]);
  }
  const hot = results.hotPath;
  if (hot) {
    const get = (group: string, name: string) => hot.groups[group]?.find((e) => e.name === name);
    const token = get("getToken", "TokenManager.getToken (L1 hit)");
    const fetchGet = get("aqcFetch GET", "createAqcFetch GET");
    const fetchPost = get("aqcFetch POST", "createAqcFetch POST JSON");
    const gateway = get("gateway", "gateway handler (createGateway)");
    const gatewayPost = get("gateway POST", "gateway handler (createGateway), POST");
    // Goals from issue #13; the floors that stop some of them are in PROFILES.md.
    if (token) {
      rows.push([
        "Warm `getToken` ÷ async `Map` lookup",
        `**${times(token.ratio)}** (${ns(token.medianAvgNs)})`,
        "≤ 1.2× (floor: a clock read per call)",
      ]);
    }
    if (fetchGet && fetchPost) {
      // POST's average carries GC pauses; its p75 ratio is shown beside it.
      const floorPost = hot.groups["aqcFetch POST"]?.find((e) => e.baseline);
      const p75 = floorPost ? ` (p75 ${times(fetchPost.medianP75Ns / floorPost.medianP75Ns)})` : "";
      rows.push([
        "`createAqcFetch` ÷ plain `fetch` with a fixed header (no-op transport)",
        `GET **${times(fetchGet.ratio)}**, POST ${times(fetchPost.ratio)}${p75}`,
        "GET ≤ 1.2×, POST ≤ 1.5×",
      ]);
    }
    if (gateway) {
      rows.push([
        "Gateway handler ÷ bare proxy handler (no-op upstream)",
        `GET **${times(gateway.ratio)}**${
          gatewayPost ? `, POST with a JSON body ${times(gatewayPost.ratio)}` : ""
        }`,
        "≤ 1.25×",
      ]);
    }
  }
  const gw = results.gatewayProxy;
  if (gw) {
    rows.push([
      "Gateway throughput ÷ bare proxy (wrk)",
      `**${num(gw.throughputRatio)}**`,
      "≥ 0.95",
    ]);
  }
  const worker = results.worker;
  if (worker) {
    rows.push([
      "Worker bundle, gzip",
      `**${bytes(worker.bundle.gzipBytes)}** (${
        num((worker.bundle.gzipBytes / worker.bundle.freePlanLimitBytes) * 100)
      }% of the 3 MiB limit)`,
      "≤ 30 KiB",
    ]);
    rows.push([
      "Worker cold start in workerd ÷ empty worker",
      `**${times(worker.coldStartRatio)}** (+${
        ms(worker.median.edgeColdStartMs - worker.median.emptyColdStartMs)
      })`,
      "≤ +10 ms",
    ]);
  }
  return table(["comparison", "result (median)", "goal / limit"], rows);
}

function herdSection(herd: ColdHerdResult): string {
  const names = Object.keys(herd.contenders) as HerdContender[];
  const edge = herd.contenders["aqc-edge"].median;
  const rows = names.map((name) => {
    const m = herd.contenders[name].median;
    return [
      HERD_NAMES[name],
      count(m.tokenRequests),
      times(m.tokenRequests / 1),
      ms(m.ttfbP50),
      times(m.ttfbP50 / edge.ttfbP50),
      ms(m.ttfbP99),
      ms(m.allDoneMs),
      count(m.errors),
    ];
  });
  return `## 1. Cold herd

${herd.isolates} cold isolates × ${herd.callsPerIsolate} concurrent flight searches on one office,
all started at once; token endpoint latency ${herd.tokenLatencyMs} ms. Medians of ${herd.rounds}
rounds (the contenders in a different order each round, a warm-up round discarded). Time to first byte is counted
from the start of the herd.

${
    table([
      "contender",
      "token requests",
      "÷ limit (1)",
      "TTFB p50",
      "÷ aqc-edge",
      "TTFB p99",
      "all answered",
      "errors",
    ], rows)
  }

The SDK has no single flight: every concurrent cold call of a client sends its own token request.
The per-isolate cache sends one per isolate. aqc-edge sends one for the whole fleet; the other
isolates wait for it on the Upstash lease.
`;
}

function steadySection(steady: SteadyStateResult): string {
  const names = Object.keys(steady.contenders) as SteadyContender[];
  const floor = steady.contenders["fixed-token"];
  const rows = names.map((name) => {
    const c = steady.contenders[name];
    const tokenless = name === "fixed-token";
    return [
      STEADY_NAMES[name],
      count(c.calls),
      tokenless ? "– (fixed)" : count(c.tokenRequests),
      tokenless ? "–" : num(c.tokenRequestsPerLifetime),
      num(c.redisCommandsPerCall),
      num(c.redisCommandsPerWarmCall),
      ms(c.p50),
      times(c.p50 / floor.p50),
      ms(c.p99),
      ms(c.steadyP99),
      tokenless ? "–" : ms(c.rolloverP99),
      tokenless ? "–" : times(c.rolloverRatio),
      count(c.errors),
    ];
  });
  return `## 2. Steady state over ${
    num(steady.durationSeconds / steady.lifetimeSeconds)
  } token lifetimes

${steady.isolates} isolates per contender, ${steady.ratePerIsolate} flight searches per second each,
for ${steady.durationSeconds} s with a simulated token lifetime of ${steady.lifetimeSeconds} s and a
token endpoint latency of ${steady.tokenLatencyMs} ms. The four contenders run at the same time on
their own offices, so they share the machine's noise. aqc-edge uses the production refresh timing
scaled to the lifetime (refresh ahead ${num(steady.refreshLeadSeconds)} s on average). A rollover
window runs from 1 s before to 2 s after a new token was issued for the office; "warm" calls are
the others (after the first second).

${
    table([
      "contender",
      "calls",
      "token requests",
      "per lifetime after the cold start",
      "Redis cmds / call",
      "Redis cmds / warm call",
      "p50",
      "p50 ÷ floor",
      "p99",
      "steady p99",
      "rollover p99",
      "rollover ÷ steady",
      "errors",
    ], rows)
  }

Limit: one token request per lifetime; refreshing ahead of expiry costs
${num(steady.lifetimeSeconds / (steady.lifetimeSeconds - steady.refreshLeadSeconds))} per lifetime
by design (a new token every lifetime − refresh lead). The SDK refreshes only when its token has
expired, blocking the calls in flight, each of which sends its own token request; its errors, when
there are any, are calls that went out with a token that had just expired.
`;
}

function hotSection(hot: HotPathResult): string {
  const rows: string[][] = [];
  for (const [group, entries] of Object.entries(hot.groups)) {
    for (const entry of entries) {
      rows.push([
        group,
        entry.baseline ? `${entry.name} (floor)` : entry.name,
        ns(entry.medianAvgNs),
        ns(entry.medianP75Ns),
        entry.baseline ? "1×" : times(entry.ratio),
      ]);
    }
  }
  return `## 3. Hot path (\`deno bench\`)

\`bench/hot_path_bench.ts\`, ${hot.runs} runs; median of the per-run averages, ratio to the floor of
the group measured in the same run. The transport is a no-op, so only the code in between is timed.

${table(["group", "benchmark", "avg", "p75", "÷ floor"], rows)}
`;
}

function proxySection(gw: GatewayProxyResult): string {
  const names = Object.keys(gw.contenders) as ProxyContender[];
  const bare = gw.contenders["bare-proxy"].median;
  const direct = gw.contenders.direct.median;
  const rows = names.map((name) => {
    const m = gw.contenders[name].median;
    return [
      PROXY_NAMES[name],
      count(m.rps),
      times(m.rps / bare.rps),
      times(m.rps / direct.rps),
      ms(m.p50),
      ms(m.p99),
      ms(m.p999),
    ];
  });
  return `## 4. Gateway vs bare proxy

\`${gw.wrk.version}\`, ${gw.wrk.threads} thread, ${gw.wrk.connections} connections, ${gw.wrk.seconds} s
per run, ${gw.rounds} rounds with the contenders in a different order each round (all six orders;
a warm-up round discarded; 1 s pause before each run). Same runtime
(\`deno serve\`) and upstream (the simulator in its own process) for both proxies; the gateway runs
\`src/main.ts\` as deployed (caller key, office check, token cache, header filtering, Server-Timing,
body limit); the bare proxy only swaps in a fixed token. Everything shares 2 cores, so absolute
numbers are for context only.

${
    table(
      ["contender", "req/s", "÷ bare proxy", "÷ direct", "p50", "p99", "p99.9"],
      rows,
    )
  }

Gateway ÷ bare proxy per round: ${gw.throughputRatios.map((r) => num(r)).join(", ")}
(median **${num(gw.throughputRatio)}**).
`;
}

/** The cold start's two parts (spawn → listening, listening → 200), when measured. */
function split(worker: WorkerResult): string[][] {
  const m = worker.median;
  if (m.edgeListenMs === undefined || m.emptyListenMs === undefined) return [];
  const firstRequest = (cold: number[], listen: number[] | undefined) =>
    median(cold.map((ms, i) => ms - (listen?.[i] ?? NaN)));
  return [
    ["  start-up: spawn → listening", ms(m.edgeListenMs), ms(m.emptyListenMs), "–"],
    [
      "  first request: listening → 200",
      ms(firstRequest(worker.edgeColdStartMs, worker.edgeListenMs)),
      ms(firstRequest(worker.emptyColdStartMs, worker.emptyListenMs)),
      "–",
    ],
  ];
}

function workerSection(worker: WorkerResult): string {
  return `## 5. Worker bundle and cold start

${
    table(["measure", "aqc-edge", "empty worker (floor)", "ratio"], [
      ["bundle (\`deno task build:worker\`)", bytes(worker.bundle.rawBytes), "–", "–"],
      [
        "bundle, gzip",
        bytes(worker.bundle.gzipBytes),
        "–",
        `${num((worker.bundle.gzipBytes / worker.bundle.freePlanLimitBytes) * 100)}% of 3 MiB`,
      ],
      [
        "cold start: workerd spawn → first 200",
        ms(worker.median.edgeColdStartMs),
        ms(worker.median.emptyColdStartMs),
        times(worker.coldStartRatio),
      ],
      ...split(worker),
      ["first proxied call (token request included)", ms(worker.median.edgeFirstCallMs), "–", "–"],
      ...(worker.median.edgeColdFirstCallMs === undefined ? [] : [[
        "cold start → first 200 of a proxied call as first request (floor: bare proxy Worker)",
        ms(worker.median.edgeColdFirstCallMs),
        worker.median.bareColdFirstCallMs === undefined
          ? "–"
          : ms(worker.median.bareColdFirstCallMs),
        worker.median.bareColdFirstCallMs === undefined
          ? "–"
          : times(worker.median.edgeColdFirstCallMs / worker.median.bareColdFirstCallMs),
      ]]),
      ...(worker.median.edgeCpuMs === undefined || worker.median.emptyCpuMs === undefined ? [] : [[
        "workerd CPU time, spawn → first 200",
        ms(worker.median.edgeCpuMs),
        ms(worker.median.emptyCpuMs),
        times(worker.median.edgeCpuMs / worker.median.emptyCpuMs),
      ]]),
    ])
  }

workerd ${worker.workerdVersion} (the binary wrangler pins) run directly with a generated config,
${worker.rounds} starts of each worker alternated; medians${
    worker.loadAverage === undefined ? "" : `, load average ${num(worker.loadAverage)} after`
  }. The cold start includes workerd's own start-up, which the empty worker measures alone;
workerd compiles and evaluates the script before it listens, so "start-up" holds the script's
compile and top-level evaluation, "first request" the gateway's construction on it.
`;
}

/** What `RESULTS.md` carries besides this run: the last soak and the written-down profiles. */
export interface ExtraSections {
  /** `bench/soak.json` (`deno task bench:soak`, its own run), when present. */
  soak?: SoakResult;
  /** `bench/PROFILES.md`, the profiles' findings (kept by hand), when present. */
  profiles?: string;
}

function soakSection(soak: SoakResult): string {
  const v = soak.verdict;
  const mb = (b: number) => `${num(b / 1_048_576)} MB`;
  return `## 6. Memory soak (\`deno task bench:soak\`, its own run)

Run on ${soak.generatedAt} for ${num(soak.minutes)} min (load average ${
    soak.load.before.join(" / ")
  } before, ${soak.load.after.join(" / ")} after): \`wrk\` with ${soak.wrk.connections} connections
without pause, ${count(soak.wrk.requests)} requests (${
    count(soak.wrk.rps)
  } req/s), ${soak.wrk.errors} errors. Heap and RSS sampled every second, the heap after a full GC every fifth second; the
first ${
    Math.round(v.warmupSeconds)
  } s are warm-up. Medians of the first and the last fifth after it:

${
    table(["measure", "first fifth", "last fifth", "growth", "goal"], [
      [
        "V8 heap after GC",
        mb(v.heapAfterGc.first),
        mb(v.heapAfterGc.last),
        `${v.heapAfterGc.growthPercent}%`,
        "within 5%",
      ],
      ["RSS", mb(v.rss.first), mb(v.rss.last), `${v.rss.growthPercent}%`, "–"],
    ])
  }

Verdict: heap **${v.flat ? "flat" : "not flat"}**. Plot: [\`soak.svg\`](soak.svg).
`;
}

/**
 * Renders `RESULTS.md`.
 *
 * @param results The results.
 * @param extra The last soak and the profiles' findings, kept outside this run.
 * @returns Markdown.
 */
export function renderMarkdown(results: BenchResults, extra: ExtraSections = {}): string {
  const env = results.environment;
  const sections = [
    results.coldHerd && herdSection(results.coldHerd),
    results.steadyState && steadySection(results.steadyState),
    results.hotPath && hotSection(results.hotPath),
    results.gatewayProxy && proxySection(results.gatewayProxy),
    results.worker && workerSection(results.worker),
    extra.soak && soakSection(extra.soak),
    extra.profiles && `## Profiles\n\n${extra.profiles.replace(/^#[^\n]*\n+/, "").trim()}\n`,
  ].filter((s): s is string => typeof s === "string");
  const durations = Object.entries(results.scenarioSeconds)
    .map(([name, s]) => `${name} ${Math.round(s)} s`)
    .join(", ");
  return `# Benchmarks

Generated by \`deno task bench\` on ${results.generatedAt} — Deno ${env.deno} (V8 ${env.v8}),
${env.platform}, ${env.cpus} CPUs, load average ${
    env.loadBefore.map((l) => l.toFixed(2)).join(" / ")
  }
before and ${env.loadAfter.map((l) => l.toFixed(2)).join(" / ")} after. The whole run took
${Math.round(results.totalSeconds)} s (${durations}). Raw numbers: [\`results.json\`](results.json).

Every comparison runs its contenders alternately within the same run and reports medians and
ratios to a baseline measured alongside; absolute times depend on the machine (here a shared
2-core VM) and are given for context only.

## Headline

${headline(results)}

![Latency distributions: gateway vs bare proxy vs direct, and p99 per second around token rollovers](latency.svg)

${sections.join("\n")}
## Method

- Everything runs on loopback: the AQC simulator (\`dev/simulator\`, no TCP relay) and a local
  Upstash (\`redis-server\` + the SRH-compatible bridge) each in their own process, like the remote
  services they stand for.
- An "isolate" is one \`TokenManager\` with its own \`@upstash/redis\` client (as in
  \`tests/fleet_test.ts\`); an SDK isolate is one \`Amadeus\` client. The SDK is pointed at the
  simulator with \`host\`, \`port\` and an \`http\` shim forcing \`http:\`; the shim also appends
  \`guest_office_id\`, which AQC requires and the SDK does not send.
- Redis commands are counted by the bridge (a pipeline counts each command).
- Re-run with \`deno task bench\`; \`deno task bench --only herd,steady,hot,gateway,worker\` runs a
  subset (the report then holds only those sections).
`;
}

function nines(p: number): number {
  return -Math.log10(1 - Math.min(p, 99.99) / 100);
}

/**
 * Renders `latency.svg`: the gateway's latency distribution against the bare proxy and a
 * direct call, and p99 per second around token rollovers in the steady state.
 *
 * @param results The results.
 * @returns SVG text, or `undefined` when neither scenario ran.
 */
export function renderSvg(results: BenchResults): string | undefined {
  const panels: Panel[] = [];
  const gw = results.gatewayProxy;
  if (gw) {
    const line = (name: ProxyContender, color: string): Series => ({
      name: `${PROXY_NAMES[name]} (${count(gw.contenders[name].median.rps)} req/s)`,
      color,
      points: gw.contenders[name].median.percentiles.map(([p, v]) => [nines(p), v]),
    });
    const max = Math.max(...Object.values(gw.contenders).map((c) => c.median.p999));
    const top = niceCeiling(max);
    panels.push({
      title:
        `Latency under load (wrk, ${gw.wrk.connections} connections): medians of ${gw.rounds} rounds`,
      xLabel: "percentile",
      yLabel: "latency (ms)",
      x: [0, nines(99.99)],
      y: [0, top],
      xTicks: [0, 50, 90, 99, 99.9, 99.99].map((p) => ({ value: nines(p), label: `p${p}` })),
      yTicks: ticks(top),
      series: [
        line("gateway", COLORS.edge),
        line("bare-proxy", COLORS.bare),
        line("direct", COLORS.direct),
      ],
    });
  }
  const steady = results.steadyState;
  if (steady) {
    const c = steady.contenders;
    const series = (name: SteadyContender, color: string, dashed = false): Series => ({
      name: STEADY_NAMES[name],
      color,
      dashed,
      points: c[name].p99BySecond.map((v, s) => [s + 0.5, v === null ? null : Math.max(v, 0.1)]),
    });
    const all = Object.values(c).flatMap((x) =>
      x.p99BySecond.filter((v): v is number => v !== null)
    );
    const top = 10 ** Math.ceil(Math.log10(Math.max(...all, 1)));
    const bottom = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...all))));
    const yTicks = [];
    for (let v = bottom; v <= top; v *= 10) yTicks.push({ value: v, label: `${v} ms` });
    panels.push({
      title:
        `p99 per second over ${steady.durationSeconds} s, token lifetime ${steady.lifetimeSeconds} s`,
      xLabel: "seconds into the run",
      yLabel: "p99 latency (ms, log)",
      x: [0, steady.durationSeconds],
      y: [bottom, top],
      yLog: true,
      xTicks: Array.from(
        { length: Math.floor(steady.durationSeconds / 10) + 1 },
        (_, i) => ({ value: i * 10, label: `${i * 10}` }),
      ),
      yTicks,
      series: [
        series("amadeus-sdk", COLORS.sdk),
        series("per-isolate", COLORS.local),
        series("fixed-token", COLORS.direct, true),
        series("aqc-edge", COLORS.edge),
      ],
      markers: {
        values: c["aqc-edge"].rolloverSeconds,
        label: "aqc-edge token rollover",
        color: COLORS.edge,
      },
    });
  }
  if (panels.length === 0) return undefined;
  return renderChart(panels, {
    caption:
      `deno task bench, ${results.generatedAt}; ${results.environment.cpus} CPUs shared by all processes`,
  });
}

function niceCeiling(value: number): number {
  const step = 10 ** Math.floor(Math.log10(Math.max(value, 1e-3)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

function ticks(top: number): { value: number; label: string }[] {
  const step = niceCeiling(top / 5);
  const out = [];
  for (let v = 0; v <= top + 1e-9; v += step) out.push({ value: v, label: `${num(v)} ms` });
  return out;
}
