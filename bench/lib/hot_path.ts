/**
 * Runs `bench/hot_path_bench.ts` under `deno bench --json` several times (so its contenders
 * alternate across runs) and reduces each benchmark to the median of its per-run averages
 * and its ratio to the floor of its group.
 *
 * @module
 */
import { median } from "./stats.ts";
import { ROOT, runCommand } from "./process.ts";

/** One benchmark of the hot path. */
export interface HotPathEntry {
  /** Benchmark name. */
  name: string;
  /** Whether it is its group's floor. */
  baseline: boolean;
  /** Average ns per iteration, per run. */
  avgNs: number[];
  /** p75 ns per iteration, per run. */
  p75Ns: number[];
  /** Median of `avgNs`. */
  medianAvgNs: number;
  /** Median of `p75Ns`. */
  medianP75Ns: number;
  /** Median over runs of avg / floor's avg in the same run. */
  ratio: number;
}

/** Result of the hot-path scenario. */
export interface HotPathResult {
  /** Runs of the bench file. */
  runs: number;
  /** Per group, in file order. */
  groups: Record<string, HotPathEntry[]>;
}

interface BenchJson {
  benches: {
    group: string | null;
    name: string;
    baseline: boolean;
    results: { ok?: { avg: number; p75: number } }[];
  }[];
}

/**
 * Runs the hot-path benchmarks.
 *
 * @param runs How many times to run the file; default 5.
 * @returns Medians and ratios per group.
 */
export async function runHotPath(runs = 5): Promise<HotPathResult> {
  const all: BenchJson[] = [];
  for (let run = 0; run < runs; run++) {
    const text = await runCommand(Deno.execPath(), [
      "bench",
      "--json",
      "--allow-net=127.0.0.1",
      "--allow-env",
      `${ROOT}bench/hot_path_bench.ts`,
    ]);
    all.push(JSON.parse(text) as BenchJson);
    console.error(`hot path: run ${run + 1}/${runs} done`);
  }
  const groups: Record<string, HotPathEntry[]> = {};
  for (const bench of all[0].benches) {
    const group = bench.group ?? "(none)";
    const pick = (json: BenchJson, name: string) => {
      const found = json.benches.find((b) => b.name === name)?.results[0]?.ok;
      if (found === undefined) throw new Error(`Benchmark ${name} failed`);
      return found;
    };
    const floorName = all[0].benches.find((b) => (b.group ?? "(none)") === group && b.baseline)
      ?.name;
    const avgNs = all.map((json) => pick(json, bench.name).avg);
    const p75Ns = all.map((json) => pick(json, bench.name).p75);
    const ratios = floorName === undefined
      ? [NaN]
      : all.map((json) => pick(json, bench.name).avg / pick(json, floorName).avg);
    (groups[group] ??= []).push({
      name: bench.name,
      baseline: bench.baseline,
      avgNs,
      p75Ns,
      medianAvgNs: median(avgNs),
      medianP75Ns: median(p75Ns),
      ratio: median(ratios),
    });
  }
  return { runs, groups };
}
