/**
 * The figures each resilience and security scenario measured, written as JSON for
 * `dev/reliability_report.ts`, which turns them into `docs/RELIABILITY.md`.
 *
 * Figures are written only when `AQC_RELIABILITY_DIR` is set (`deno task reliability` sets it);
 * a plain `deno task test` measures and asserts the same but writes nothing.
 *
 * @module
 */
import { AssertionError } from "node:assert";
import type { LoadSummary } from "./load.ts";

/** Where the figures go, one JSON file per scenario. */
export const RESULTS_DIR_VARIABLE = "AQC_RELIABILITY_DIR";

/** The load a scenario held. */
export interface LoadFigures {
  /** Calls made. */
  calls: number;
  /** Concurrent callers. */
  concurrency: number;
  /** Offices called. */
  offices: number;
  /** Gateway isolates (`deno serve --parallel`). */
  isolates: number;
  /** Duration of the traffic in seconds. */
  seconds: number;
  /** Calls per second. */
  rps: number;
}

/** The report's sections. */
export type ScenarioGroup = "resilience" | "abuse" | "security";

/** One pass/fail check of a scenario. */
export interface CheckResult {
  /** What is checked. */
  name: string;
  /** Whether it held. */
  ok: boolean;
  /** The measured value, for the report. */
  detail?: string;
}

/** What one scenario measured; the JSON written per scenario. */
export interface ScenarioFigures {
  /** Stable id, also the file name. */
  id: string;
  /** `resilience`, `abuse` (token spend under hostile callers) or `security`. */
  group: ScenarioGroup;
  /** One line saying what the scenario does. */
  title: string;
  /** The load held, when there was one. */
  load?: LoadFigures;
  /** What was injected, in words. */
  injected: string;
  /** How many faults were survived (outages, faulty token answers, revoked tokens…). */
  faults: number;
  /** How many hostile or malformed inputs were tried. */
  badInputs: number;
  /** Calls answered 5xx or not answered, where the scenario demands none. */
  failedCalls: number;
  /** Calls that exceeded their deadline (hung). */
  hungCalls: number;
  /** Median latency in ms. */
  p50Ms?: number;
  /** 99th percentile latency in ms. */
  p99Ms?: number;
  /** Slowest call in ms. */
  maxMs?: number;
  /** Token requests the token endpoint received during the scenario. */
  tokenRequests?: number;
  /** Of those, requests that repeated a failed one (retries). */
  retries?: number;
  /** Time from the fault's end to full service, in ms. */
  recoveryMs?: number;
  /** Secrets, tokens, keys or office ids found where they must not be. */
  leaks: number;
  /** Other figures worth a line in the report. */
  notes: string[];
  /** Every check, in order. */
  checks: CheckResult[];
  /** Whether every check held. */
  passed: boolean;
  /** ISO time of the run. */
  at: string;
}

/** Builds a scenario's figures, checks them, and records them. */
export class Scenario {
  readonly figures: ScenarioFigures;

  /**
   * Starts recording a scenario.
   *
   * @param id Stable id (file name).
   * @param group `resilience`, `abuse` or `security`.
   * @param title One line.
   */
  constructor(id: string, group: ScenarioGroup, title: string) {
    this.figures = {
      id,
      group,
      title,
      injected: "",
      faults: 0,
      badInputs: 0,
      failedCalls: 0,
      hungCalls: 0,
      leaks: 0,
      notes: [],
      checks: [],
      passed: false,
      at: new Date().toISOString(),
    };
  }

  /**
   * Takes the load figures and latency percentiles from a summary.
   *
   * @param summary The calls' summary.
   * @param shape Concurrency, offices, isolates.
   */
  load(
    summary: LoadSummary,
    shape: { concurrency: number; offices: number; isolates: number; seconds: number },
  ): void {
    this.figures.load = {
      calls: summary.calls,
      concurrency: shape.concurrency,
      offices: shape.offices,
      isolates: shape.isolates,
      seconds: Math.round(shape.seconds * 10) / 10,
      rps: summary.rps,
    };
    this.figures.p50Ms = summary.p50Ms;
    this.figures.p99Ms = summary.p99Ms;
    this.figures.maxMs = summary.maxMs;
    this.figures.hungCalls = summary.hung;
  }

  /**
   * Adds a note line to the report.
   *
   * @param line The note.
   */
  note(line: string): void {
    this.figures.notes.push(line);
  }

  /**
   * Records a check; `finish()` fails the test if any check failed.
   *
   * @param name What is checked.
   * @param ok Whether it held.
   * @param detail The measured value.
   */
  check(name: string, ok: boolean, detail?: string | number): void {
    this.figures.checks.push({
      name,
      ok,
      ...(detail === undefined ? {} : { detail: String(detail) }),
    });
  }

  /**
   * Writes the figures (when `AQC_RELIABILITY_DIR` is set), then throws an `AssertionError`
   * listing every failed check.
   */
  async finish(): Promise<void> {
    const failed = this.figures.checks.filter((c) => !c.ok);
    this.figures.passed = failed.length === 0 && this.figures.checks.length > 0;
    const dir = Deno.env.get(RESULTS_DIR_VARIABLE);
    if (dir !== undefined && dir !== "") {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/${this.figures.id}.json`,
        JSON.stringify(this.figures, null, 2) + "\n",
      );
    }
    console.log(summaryLine(this.figures));
    if (failed.length > 0) {
      throw new AssertionError({
        message: `${this.figures.id}: ${failed.length} check(s) failed:\n` +
          failed.map((c) => `  - ${c.name}${c.detail ? ` (${c.detail})` : ""}`).join("\n"),
      });
    }
  }
}

function summaryLine(f: ScenarioFigures): string {
  const parts = [`${f.id}:`];
  if (f.load) parts.push(`${f.load.calls} calls at ${f.load.rps}/s`);
  parts.push(`failed ${f.failedCalls}`, `hung ${f.hungCalls}`);
  if (f.p99Ms !== undefined) parts.push(`p50 ${f.p50Ms} ms`, `p99 ${f.p99Ms} ms`);
  if (f.tokenRequests !== undefined) parts.push(`token requests ${f.tokenRequests}`);
  if (f.recoveryMs !== undefined) parts.push(`recovery ${f.recoveryMs} ms`);
  parts.push(`leaks ${f.leaks}`);
  return parts.join(" ");
}
