/**
 * `ConfigError`: a configuration that failed validation, with one issue per problem.
 *
 * @module
 */
import { AqcError } from "../errors.ts";

/** One problem of a configuration: the variable it is about and a line that names it. */
export interface ConfigIssue {
  /** The environment variable, e.g. `AQC_GATEWAY_KEYS` (also for `AQC_GATEWAY_KEYS[0].id`). */
  variable: string;
  /** A sentence-case line that starts with the variable and never quotes a secret. */
  message: string;
}

/**
 * A configuration that failed validation: `issues` holds one entry per problem, naming the
 * variable and never printing a secret's value. The message is their lines.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "@aqc-edge/aqc-edge/gateway";
 *
 * let variables = "";
 * try {
 *   loadConfig({ AQC_API_URL: "https://test.travel.api.amadeus.com" });
 * } catch (error) {
 *   if (error instanceof ConfigError) variables = error.issues.map((i) => i.variable).join(",");
 * }
 * if (variables !== "AQC_CLIENT_ID,AQC_CLIENT_SECRET,AQC_GATEWAY_KEYS") {
 *   throw new Error(`expected a ConfigError naming the missing variables, got "${variables}"`);
 * }
 * ```
 */
export class ConfigError extends AqcError {
  /** One entry per problem, in the order found. */
  readonly issues: readonly ConfigIssue[];

  /**
   * Creates the error from its issues.
   *
   * @param issues One entry per problem.
   */
  constructor(issues: readonly ConfigIssue[]) {
    super("config_invalid", issues.map((issue) => issue.message).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }

  /** The names of the wrong variables, each once, in the order found. */
  get variables(): string[] {
    return [...new Set(this.issues.map((issue) => issue.variable))];
  }
}

/** Collects issues; each line must start with its variable's name (tests hold it to that). */
export class Issues {
  readonly list: ConfigIssue[] = [];

  add(variable: string, message: string): void {
    this.list.push({ variable, message });
  }

  /** An `AqcError` thrown by a validator: its message already names `variable`. */
  fromError(variable: string, error: unknown): void {
    this.add(variable, error instanceof Error ? error.message : `${variable} is invalid`);
  }
}
