/**
 * `deno task bench`: runs every benchmark scenario on loopback and writes
 * `bench/results.json`, `bench/RESULTS.md` and `bench/latency.svg`.
 *
 * 1. cold herd (`cold_herd.ts`), 2. steady state (`steady_state.ts`), 3. hot path
 * (`deno bench --json hot_path_bench.ts`), 4. gateway vs bare proxy (`gateway_proxy.ts`, needs
 * `wrk`: installed from Debian when missing and running as root), 5. worker bundle and cold
 * start (`worker_cold_start.ts`). Each scenario runs in its own process.
 *
 * Options: `--only herd,steady,hot,gateway,worker` runs a subset; `--render` only re-renders
 * `RESULTS.md` from `results.json` (adding the last soak and `PROFILES.md`).
 *
 * @module
 */
import type { ColdHerdResult } from "./cold_herd.ts";
import type { SteadyStateResult } from "./steady_state.ts";
import type { GatewayProxyResult } from "./gateway_proxy.ts";
import type { WorkerResult } from "./worker_cold_start.ts";
import type { SoakResult } from "./soak.ts";
import { runHotPath } from "./lib/hot_path.ts";
import { BENCH_PERMISSIONS, ROOT, runCommand } from "./lib/process.ts";
import { type BenchResults, renderMarkdown, renderSvg } from "./lib/report.ts";

const SCENARIOS = ["herd", "steady", "hot", "gateway", "worker"] as const;
type Scenario = typeof SCENARIOS[number];

function selected(): Set<Scenario> {
  const at = Deno.args.indexOf("--only");
  if (at === -1) return new Set(SCENARIOS);
  const names = (Deno.args[at + 1] ?? "").split(",").map((s) => s.trim());
  for (const name of names) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`Unknown scenario ${name}; choose from ${SCENARIOS.join(", ")}`);
    }
  }
  return new Set(names as Scenario[]);
}

/** Runs `bench/<file>` in its own process and returns the JSON it wrote. */
async function scenario<T>(file: string): Promise<T> {
  const out = await Deno.makeTempFile({ prefix: "aqc-bench-", suffix: ".json" });
  try {
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...BENCH_PERMISSIONS, `${ROOT}bench/${file}`, "--out", out],
      cwd: ROOT,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) throw new Error(`bench/${file} failed with exit code ${status.code}`);
    return JSON.parse(await Deno.readTextFile(out)) as T;
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/** 1/5/15-minute load averages, or none (needs `--allow-sys=loadavg`). */
function load(): number[] {
  try {
    return Deno.loadavg().map((l) => Math.round(l * 100) / 100);
  } catch {
    return [];
  }
}

/**
 * Writes `bench/RESULTS.md` from `results`, with the last soak (`bench/soak.json`) and the
 * profiles' findings (`bench/PROFILES.md`) when present.
 */
async function writeMarkdown(results: BenchResults): Promise<void> {
  const soak = await Deno.readTextFile(`${ROOT}bench/soak.json`).then(
    (text) => JSON.parse(text) as SoakResult,
    () => undefined,
  );
  const profiles = await Deno.readTextFile(`${ROOT}bench/PROFILES.md`).catch(() => undefined);
  await Deno.writeTextFile(
    `${ROOT}bench/RESULTS.md`,
    renderMarkdown(results, {
      ...(soak ? { soak } : {}),
      ...(profiles ? { profiles } : {}),
    }),
  );
}

const USAGE = `Usage: deno task bench [--only ${SCENARIOS.join(",")}] [--render]

Runs the benchmark scenarios on loopback (about 4 minutes for all, on 2 cores) and writes
bench/results.json, bench/RESULTS.md and bench/latency.svg. Run it on an otherwise idle
machine: the load average is recorded before and after.

  --only a,b   run only these scenarios (the others keep no result)
  --render     re-render RESULTS.md from results.json, the last soak and PROFILES.md
  --help       this text

The 10-minute memory soak is its own task: deno task bench:soak [--minutes N].`;

if (import.meta.main) {
  const args = [...Deno.args];
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const only = args.indexOf("--only");
  if (only !== -1) args.splice(only, 2);
  const unknown = args.filter((arg) => arg !== "--render");
  if (unknown.length > 0) {
    console.error(`Unknown argument ${unknown[0]}\n\n${USAGE}`);
    Deno.exit(2);
  }
}

if (import.meta.main && Deno.args.includes("--render")) {
  // Re-renders RESULTS.md from results.json (e.g. after a soak or new profile notes).
  await writeMarkdown(JSON.parse(await Deno.readTextFile(`${ROOT}bench/results.json`)));
  await runCommand(Deno.execPath(), ["fmt", "--quiet", `${ROOT}bench/RESULTS.md`]);
  Deno.exit(0);
}

if (import.meta.main) {
  const only = selected();
  const started = performance.now();
  const loadBefore = load();
  const cpus = navigator.hardwareConcurrency;
  console.error(
    `bench: ${[...only].join(", ")} on ${cpus} CPUs, load average ${loadBefore.join(" / ")}`,
  );
  if (loadBefore[0] > cpus / 2) {
    console.error("bench: the machine is busy; ratios hold up better than absolute numbers");
  }
  const results: BenchResults = {
    generatedAt: "",
    environment: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      platform: `${Deno.build.os}/${Deno.build.arch}`,
      cpus,
      loadBefore,
      loadAfter: [],
    },
    totalSeconds: 0,
    scenarioSeconds: {},
  };
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    console.error(`bench: ${name}…`);
    const value = await run();
    results.scenarioSeconds[name] = (performance.now() - t0) / 1000;
    return value;
  };
  if (only.has("herd")) {
    results.coldHerd = await timed("cold herd", () => scenario<ColdHerdResult>("cold_herd.ts"));
  }
  if (only.has("steady")) {
    results.steadyState = await timed(
      "steady state",
      () => scenario<SteadyStateResult>("steady_state.ts"),
    );
  }
  if (only.has("hot")) results.hotPath = await timed("hot path", () => runHotPath());
  if (only.has("gateway")) {
    results.gatewayProxy = await timed(
      "gateway vs proxy",
      () => scenario<GatewayProxyResult>("gateway_proxy.ts"),
    );
  }
  if (only.has("worker")) {
    results.worker = await timed("worker", () => scenario<WorkerResult>("worker_cold_start.ts"));
  }
  results.totalSeconds = (performance.now() - started) / 1000;
  results.environment.loadAfter = load();
  results.generatedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");

  await Deno.writeTextFile(`${ROOT}bench/results.json`, JSON.stringify(results, null, 2) + "\n");
  await writeMarkdown(results);
  const svg = renderSvg(results);
  if (svg !== undefined) await Deno.writeTextFile(`${ROOT}bench/latency.svg`, svg);
  // In deno fmt's style, so that `deno task check` stays green with the outputs committed.
  await runCommand(Deno.execPath(), [
    "fmt",
    "--quiet",
    ...["RESULTS.md", "results.json", ...(svg ? ["latency.svg"] : [])].map((f) =>
      `${ROOT}bench/${f}`
    ),
  ]);
  console.error(
    `bench: done in ${Math.round(results.totalSeconds)} s; wrote bench/RESULTS.md, ` +
      `bench/results.json${svg ? ", bench/latency.svg" : ""}`,
  );
}
