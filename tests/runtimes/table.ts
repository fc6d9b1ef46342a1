/**
 * The runtime × check table of the cross-runtime suite, and its failures (pure).
 *
 * @module
 */
import type { CheckResult } from "./scenario.ts";

/** One runtime's outcome. */
export interface RuntimeRun {
  /** Column label, e.g. `node 20.20.2`. */
  runtime: string;
  /** The checks it reported; empty when it reported none. */
  results: CheckResult[];
  /** Its output (stdout and stderr), for failure messages. */
  output: string;
}

/**
 * The runtime × check table, one row per check and one column per runtime (so it stays
 * narrow): `pass`, `FAIL`, or `—` where the check does not apply to that runtime.
 */
export function formatTable(runs: RuntimeRun[]): string {
  const checks: string[] = [];
  for (const run of runs) {
    for (const result of run.results) if (!checks.includes(result.name)) checks.push(result.name);
  }
  const header = ["check", ...runs.map((run) => run.runtime)];
  const rows = checks.map((name) => [
    name,
    ...runs.map((run) => {
      const result = run.results.find((candidate) => candidate.name === name);
      return result === undefined ? "—" : result.ok ? "pass" : "FAIL";
    }),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Every failed check, with its runtime and detail. */
export function failures(runs: RuntimeRun[]): string[] {
  return runs.flatMap((run) =>
    run.results.filter((result) => !result.ok).map((result) =>
      `${run.runtime} ${result.name}: ${result.detail ?? "failed"}`
    )
  );
}
