/**
 * `deno task reliability`: runs the resilience and security suite, then writes
 * `docs/RELIABILITY.md` from the figures each scenario recorded. Never edit that file by
 * hand above its hand-written marker: run the task.
 *
 * ```sh
 * deno task reliability                       # run the suite, write the doc
 * deno task reliability --from /tmp/aqc-reliability   # only rewrite the doc from figures
 * ```
 *
 * @module
 */
import type { ScenarioFigures } from "../tests/helpers/reliability.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DEFAULT_DIR = "/tmp/aqc-reliability";
const DOC = `${ROOT}docs/RELIABILITY.md`;
const SUITE = /^(resilience_.*|security)_test\.ts$/;

interface Run {
  seconds: number;
  passed: boolean;
  files: string[];
  commit?: string | undefined;
}

/**
 * Sections kept by hand below this marker (e.g. "Real Upstash", measured with the bridge's
 * production habits by tests outside this suite) survive each rewrite.
 */
const HAND_WRITTEN = "<!-- hand-written below: kept by deno task reliability -->";

async function handWritten(): Promise<string> {
  try {
    const text = await Deno.readTextFile(DOC);
    const at = text.indexOf(HAND_WRITTEN);
    return at === -1 ? "" : `\n${text.slice(at)}`;
  } catch {
    return "";
  }
}

async function commit(): Promise<string | undefined> {
  try {
    const { stdout, success } = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    return success ? new TextDecoder().decode(stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

async function runSuite(dir: string): Promise<Run> {
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}tests`)) {
    if (entry.isFile && SUITE.test(entry.name)) files.push(`tests/${entry.name}`);
  }
  files.sort();
  console.log(`reliability: running ${files.join(", ")}`);
  const started = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--allow-net=127.0.0.1,localhost",
      "--allow-run",
      "--allow-env",
      "--allow-read",
      "--allow-write=/tmp",
      "--parallel",
      ...files,
    ],
    cwd: ROOT,
    env: { AQC_RELIABILITY_DIR: dir, NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return {
    seconds: (performance.now() - started) / 1000,
    passed: code === 0,
    files,
    commit: await commit(),
  };
}

async function readFigures(dir: string): Promise<ScenarioFigures[]> {
  const figures: ScenarioFigures[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".json")) {
      figures.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)));
    }
  }
  const order = (f: ScenarioFigures) => ({ resilience: 0, abuse: 1, security: 2 })[f.group] ?? 3;
  return figures.sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id));
}

const n = (value: number | undefined): string =>
  value === undefined ? "–" : value.toLocaleString("en-US");
const ms = (value: number | undefined): string =>
  value === undefined ? "–" : `${value.toLocaleString("en-US", { maximumFractionDigits: 1 })} ms`;
const cell = (text: string): string => text.replaceAll("|", "\\|").replaceAll("\n", " ");

function table(figures: ScenarioFigures[]): string[] {
  const lines = [
    "| scenario | load held | faults survived | bad inputs | failed calls | p50 / p99 | token requests (retries) | recovery | leaks | result |",
    "| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: | --- |",
  ];
  for (const f of figures) {
    const load = f.load === undefined
      ? "–"
      : `${n(f.load.calls)} calls, ${f.load.concurrency} callers × ${f.load.offices} offices, ` +
        `${f.load.isolates} isolates, ${f.load.seconds} s (${n(f.load.rps)}/s)`;
    const latency = f.p50Ms === undefined ? "–" : `${ms(f.p50Ms)} / ${ms(f.p99Ms)}`;
    const tokens = f.tokenRequests === undefined
      ? "–"
      : `${n(f.tokenRequests)}${f.retries === undefined ? "" : ` (${n(f.retries)})`}`;
    lines.push(
      `| ${
        [
          `**${f.id}**: ${f.title}`,
          load,
          n(f.faults),
          n(f.badInputs),
          n(f.failedCalls),
          latency,
          tokens,
          ms(f.recoveryMs),
          n(f.leaks),
          f.passed ? "pass" : "**FAIL**",
        ].map(cell).join(" | ")
      } |`,
    );
  }
  const sum = (pick: (f: ScenarioFigures) => number | undefined) =>
    figures.reduce((total, f) => total + (pick(f) ?? 0), 0);
  lines.push(
    `| **total** | ${n(sum((f) => f.load?.calls))} calls | ${n(sum((f) => f.faults))} | ${
      n(sum((f) => f.badInputs))
    } | ${n(sum((f) => f.failedCalls))} | | ${n(sum((f) => f.tokenRequests))} | | ${
      n(sum((f) => f.leaks))
    } | ${figures.every((f) => f.passed) ? "pass" : "**FAIL**"} |`,
  );
  return lines;
}

function abuseTable(figures: ScenarioFigures[]): string[] {
  const lines = [
    "| scenario | attack | token requests | figures | other callers failed | result |",
    "| --- | --- | ---: | --- | ---: | --- |",
  ];
  for (const f of figures) {
    lines.push(
      `| ${
        [
          `**${f.id}**: ${f.title}`,
          f.injected || "–",
          n(f.tokenRequests),
          f.notes.join("; "),
          n(f.failedCalls),
          f.passed ? "pass" : "**FAIL**",
        ].map(cell).join(" | ")
      } |`,
    );
  }
  return lines;
}

function details(f: ScenarioFigures): string[] {
  const lines = [`### ${f.id}`, "", f.title + ".", "", `- injected: ${f.injected || "–"}`];
  for (const note of f.notes) lines.push(`- ${note}`);
  if (f.maxMs !== undefined) {
    lines.push(`- slowest call: ${ms(f.maxMs)}; hung calls: ${f.hungCalls}`);
  }
  lines.push("", "| check | measured | |", "| --- | --- | --- |");
  for (const check of f.checks) {
    lines.push(
      `| ${cell(check.name)} | ${cell(check.detail ?? "")} | ${check.ok ? "✓" : "✗"} |`,
    );
  }
  lines.push("");
  return lines;
}

/**
 * Renders the doc from the figures.
 *
 * @param figures Every scenario's figures.
 * @param run The suite run, when this invocation ran it.
 * @returns Markdown.
 */
export function render(figures: ScenarioFigures[], run?: Run): string {
  const newest = figures.map((f) => f.at).sort().at(-1) ?? "";
  const lines = [
    "# Reliability",
    "",
    "<!-- Generated by `deno task reliability` (dev/reliability_report.ts) from the figures the",
    "suite measured. Do not edit by hand: run the task. -->",
    "",
    "What the resilience and security suite (`tests/resilience_*_test.ts`,",
    "`tests/security_test.ts`) measured on its last run: steady traffic through the gateway as it",
    "ships (`deno serve --parallel src/main.ts`, Upstash store through the local bridge over a real",
    "`redis-server`, the AQC simulator), with faults injected mid-run. Time is compressed: tokens",
    "live seconds, not 30 minutes, and deadlines are tuned down with `AQC_*` variables so that every",
    "scenario crosses refreshes and deadlines within seconds.",
    "",
    `Run: ${
      newest.slice(0, 16).replace("T", " ")
    } UTC · ${navigator.hardwareConcurrency} cores · ` +
    `Deno ${Deno.version.deno}` +
    (run === undefined
      ? ""
      : ` · suite ${run.seconds.toFixed(0)} s wall time (${run.files.length} files, --parallel)` +
        (run.commit ? ` · commit ${run.commit}` : "")),
    "",
    "- **failed calls**: calls answered 5xx or not at all where the scenario demands none (for",
    "  the outage scenarios, anything but the designed answers: the upstream 401, or 503 with",
    "  `Retry-After`; for the slow-AQC scenario, anything but the 504 at the timeout).",
    "- **faults survived**: outages, faulty token answers, revoked tokens or hostile requests",
    "  the scenario injected. **bad inputs**: malformed token bodies, hostile office spellings,",
    "  header games and wrong keys tried.",
    "- **leaks**: the client secret, every issued token, every gateway key, the Upstash token and",
    "  `AQC_TOKEN_KEY` searched in every gateway log line and error body (plain, percent, hex,",
    "  base64 and base64url at every alignment), and raw Redis searched for those plus office ids",
    "  and the client id.",
    "- **recovery**: from the end of a fault to full service (the first good answer of every",
    "  office, or the first refresh that landed).",
    "",
    ...table(figures.filter((f) => f.group !== "abuse")),
    "",
    "## Abuse: token spend under hostile callers",
    "",
    "Callers and a failing token endpoint trying to make the fleet spend tokens",
    "(`tests/resilience_abuse_test.ts`): provoked 401s for one office (eviction budget), thousands",
    "of distinct office ids with `AQC_OFFICES` unset (bounded entries, new-office budget), and cold",
    "callers against a 503, then 429 + `Retry-After` token endpoint (circuit breaker). The notes of",
    "each scenario give the same figure measured on the code before these limits.",
    "",
    ...abuseTable(figures.filter((f) => f.group === "abuse")),
    "",
    "## Scenarios",
    "",
    ...figures.flatMap(details),
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const fromIndex = Deno.args.indexOf("--from");
  let run: Run | undefined;
  let dir = DEFAULT_DIR;
  if (fromIndex !== -1) {
    dir = Deno.args[fromIndex + 1] ?? DEFAULT_DIR;
  } else {
    run = await runSuite(dir);
  }
  const figures = await readFigures(dir).catch(() => []);
  if (figures.length === 0) {
    console.error(`reliability: no figures in ${dir}`);
    Deno.exit(1);
  }
  await Deno.writeTextFile(DOC, render(figures, run) + await handWritten());
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", DOC],
    cwd: ROOT,
  }).output();
  if (!fmt.success) console.error("reliability: deno fmt failed on the doc");
  const failed = figures.filter((f) => !f.passed).map((f) => f.id);
  console.log(
    `reliability: wrote docs/RELIABILITY.md (${figures.length} scenarios` +
      (run === undefined ? "" : `, suite ${run.seconds.toFixed(0)} s`) +
      (failed.length > 0 ? `; FAILED: ${failed.join(", ")}` : "") + ")",
  );
  if (failed.length > 0 || (run !== undefined && !run.passed)) Deno.exit(1);
}
