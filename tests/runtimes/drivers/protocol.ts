/**
 * How the runner and a driver process talk: the scenario environment goes in one environment
 * variable (it holds the local Upstash token, so never a process argument), the results come
 * back as one stdout line with a fixed prefix (anything else the runtime prints is ignored).
 *
 * @module
 */
import type { CheckResult } from "../scenario.ts";

/** The environment variable holding the JSON `ScenarioEnv`. */
export const ENV_VAR = "AQC_SCENARIO_ENV";

/** Prefix of the one stdout line with the JSON `CheckResult[]`. */
export const RESULT_PREFIX = "AQC_RUNTIME_RESULTS ";

/** The result line for `results`. */
export function resultLine(results: CheckResult[]): string {
  return RESULT_PREFIX + JSON.stringify(results);
}

/** The results in a driver's stdout, or `undefined` when it printed none. */
export function parseResults(stdout: string): CheckResult[] | undefined {
  const line = stdout.split("\n").find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (line === undefined) return undefined;
  const parsed: unknown = JSON.parse(line.slice(RESULT_PREFIX.length));
  if (!Array.isArray(parsed)) return undefined;
  return parsed.filter((item): item is CheckResult =>
    typeof item === "object" && item !== null && typeof item.name === "string" &&
    typeof item.ok === "boolean"
  );
}
