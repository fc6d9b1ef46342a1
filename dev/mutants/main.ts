/**
 * `deno task mutants`: applies each mutation of `mutations.ts` alone to a copy of the
 * repository, runs the tests it lists there, and prints (and writes) a table of what was
 * caught, what survived and what no longer applies. Exits 1 unless every mutation applied
 * was caught.
 *
 * @module
 */
import { MUTATIONS } from "./mutations.ts";
import { applyEdits } from "./apply.ts";
import {
  copyTree,
  editsOf,
  type MutationResult,
  readText,
  runMutation,
  runTests,
  stopAllRuns,
} from "./run.ts";
import type { Mutation } from "./types.ts";
import { renderTable } from "./table.ts";

const USAGE = `deno task mutants [options]

Applies each named mutation of dev/mutants/mutations.ts alone to a copy of the repository
(in /tmp), runs the tests it lists, and reports caught / survived / not applicable.

Options:
  --filter TEXT   only mutations whose name or kind contains TEXT (repeatable)
  --parallel N    mutations run at once, 1 or 2 (default 2)
  --timeout S     time limit of one test run in seconds (default 120)
  --out FILE      where the table is written (default docs/MUTANTS.md; "-" for none)
  --list          print the mutations and exit
  --dry-run       only check that each mutation applies (exactly one match), run no test
  --help          this text

Exit status: 0 when every mutation was caught, 1 otherwise (a survivor, a mutation that no
longer applies or does not type-check, or tests that fail on the unmutated copy).`;

interface Options {
  filters: string[];
  parallel: number;
  timeoutMs: number;
  out: string | undefined;
  list: boolean;
  dryRun: boolean;
}

function parseArgs(args: string[]): Options | string {
  const options: Options = {
    filters: [],
    parallel: 2,
    timeoutMs: 120_000,
    out: "docs/MUTANTS.md",
    list: false,
    dryRun: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--help" || arg === "-h") return USAGE;
    else if (arg === "--list") options.list = true;
    else if (arg === "--dry-run") options.dryRun = true;
    else if (arg === "--filter") options.filters.push(value());
    else if (arg === "--parallel") {
      const n = Number(value());
      if (n !== 1 && n !== 2) throw new Error("--parallel must be 1 or 2");
      options.parallel = n;
    } else if (arg === "--timeout") {
      const s = Number(value());
      if (!Number.isFinite(s) || s <= 0) throw new Error("--timeout must be a positive number");
      options.timeoutMs = s * 1000;
    } else if (arg === "--out") {
      const out = value();
      options.out = out === "-" ? undefined : out;
    } else throw new Error(`Unknown option ${arg} (see --help)`);
  }
  return options;
}

/** The mutations selected by the filters. */
export function select(mutations: readonly Mutation[], filters: readonly string[]): Mutation[] {
  if (filters.length === 0) return [...mutations];
  return mutations.filter((m) => filters.some((f) => m.name.includes(f) || m.kind.includes(f)));
}

function groupKey(mutation: Mutation): string {
  return JSON.stringify([mutation.tests, mutation.filter ?? null]);
}

async function pool<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(args: string[]): Promise<number> {
  let options: Options | string;
  try {
    options = parseArgs(args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  if (typeof options === "string") {
    console.log(options);
    return 0;
  }
  const names = new Set<string>();
  for (const m of MUTATIONS) {
    if (names.has(m.name)) throw new Error(`Duplicate mutation name ${m.name}`);
    names.add(m.name);
  }
  const selected = select(MUTATIONS, options.filters);
  if (options.list) {
    for (const m of selected) {
      console.log(`${m.name}  [${m.kind}]  ${m.file}  → ${m.tests.join(" ")}`);
    }
    return 0;
  }
  if (selected.length === 0) {
    console.error("No mutation matches the filter");
    return 2;
  }
  const repo = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
  if (options.dryRun) {
    let applicable = 0;
    for (const m of selected) {
      const applied = await applyEdits(editsOf(m), (path) => readText(`${repo}/${path}`));
      if (applied.ok) applicable++;
      console.log(
        `${applied.ok ? "applies       " : "not applicable"} ${m.name}${
          applied.ok ? "" : `: ${applied.reason}`
        }`,
      );
    }
    console.log(`${applicable}/${selected.length} mutations apply`);
    return applicable === selected.length ? 0 : 1;
  }
  const workDir = await Deno.makeTempDir({ prefix: "aqc-mutants-" });
  // The test runs lead their own process groups, out of reach of the terminal's Ctrl-C.
  const interrupted = () => {
    stopAllRuns();
    Deno.removeSync(workDir, { recursive: true });
    console.error("Interrupted");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  const started = performance.now();
  try {
    // Sanity first: each test selection must pass on an unmutated copy, or a "caught"
    // would mean nothing.
    const groups = new Map<string, Mutation>();
    for (const m of selected) if (!groups.has(groupKey(m))) groups.set(groupKey(m), m);
    const pristine = `${workDir}/pristine`;
    await copyTree(repo, pristine);
    console.log(`Sanity: ${groups.size} test selections on an unmutated copy`);
    const broken = new Map<string, string>();
    await pool([...groups.entries()], options.parallel, async ([key, m]) => {
      const run = await runTests(pristine, m.tests, {
        ...(m.filter === undefined ? {} : { filter: m.filter }),
        timeoutMs: options.timeoutMs,
      });
      const label = `${m.tests.join(" ")}${
        m.filter ? ` --filter ${JSON.stringify(m.filter)}` : ""
      }`;
      if (run.passed) console.log(`  ok    ${label} (${seconds(run.durationMs)})`);
      else {
        broken.set(key, run.timedOut ? "timed out" : run.failed.join("; ") || "failed");
        console.log(`  FAIL  ${label}: ${broken.get(key)}\n${run.tail}`);
      }
    });
    await Deno.remove(pristine, { recursive: true });

    let done = 0;
    const results = await pool(selected, options.parallel, async (m): Promise<MutationResult> => {
      const sanity = broken.get(groupKey(m));
      const result: MutationResult = sanity !== undefined
        ? { mutation: m, outcome: "sanity failed", detail: sanity, durationMs: 0 }
        : await runMutation(repo, workDir, m, options.timeoutMs);
      done++;
      console.log(
        `[${done}/${selected.length}] ${result.outcome.padEnd(14)} ${m.name} (${
          seconds(result.durationMs)
        })${result.outcome === "caught" ? "" : `: ${result.detail}`}`,
      );
      return result;
    });
    const totalMs = performance.now() - started;
    const table = renderTable(results, { totalMs, parallel: options.parallel });
    console.log(`\n${table}`);
    if (options.out !== undefined && options.filters.length === 0) {
      await Deno.writeTextFile(`${repo}/${options.out}`, table);
      // Laid out as `deno fmt` wants it, so `deno task check` stays green.
      await new Deno.Command(Deno.execPath(), {
        args: ["fmt", "--quiet", options.out],
        cwd: repo,
        stdout: "null",
        stderr: "null",
      }).output();
      console.log(`Written to ${options.out}`);
    } else if (options.out !== undefined) {
      console.log(`Not written to ${options.out}: a filtered run is not the whole table`);
    }
    return results.every((r) => r.outcome === "caught") ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    await Deno.remove(workDir, { recursive: true }).catch(() => undefined);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
