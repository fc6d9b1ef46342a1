/**
 * The one start-up of the deployable gateway, shared by `src/main.ts` (Deno) and
 * `src/worker.ts` (Workers): load the configuration → say its warnings once → build the token
 * manager → build the gateway; plus a prewarm that logs each office that failed.
 *
 * It does no random, timer or I/O work itself, so a Worker may call it at module scope or on
 * its first request; the entry decides what an invalid configuration means (exit, or answer
 * every request with `config_invalid`).
 *
 * @module
 */
import {
  type AqcConfig,
  ConfigError,
  type ConfigIssue,
  loadConfig,
} from "../config/load_config.ts";
import { isAqcError } from "../errors.ts";
import type { PrewarmResult, TokenManager } from "../token/manager.ts";
import { createGateway, type GatewayApp, type GatewayOptions } from "./create_gateway.ts";
import { tokenOptionsWith } from "./telemetry.ts";
import { createTokenManager } from "./token_manager.ts";

/** Where start-up lines go; default `console.error` / `console.warn` with an `aqc-edge: ` prefix. */
export interface BootstrapLog {
  /** A configuration problem. */
  error(line: string): void;
  /** A warning (in-memory store, a failed prewarm). */
  warn(line: string): void;
}

/** Options of {@linkcode bootstrap}. */
export interface BootstrapOptions extends Omit<GatewayOptions, "tokens"> {
  /** Start-up log; default the console. */
  startupLog?: BootstrapLog;
}

/** A gateway that started: its configuration, token manager, app and prewarm. */
export interface Started {
  /** The configuration was valid. */
  ok: true;
  /** The loaded configuration. */
  config: AqcConfig;
  /** The token manager, shared by the app and the prewarm. */
  tokens: TokenManager;
  /** The gateway. */
  app: GatewayApp;
  /** Prewarms `officeIds` (default `AQC_OFFICES`, none when unset), logging each failure. */
  prewarm(officeIds?: readonly string[]): Promise<PrewarmResult[]>;
}

/** A gateway that could not start: the configuration's issues (already logged). */
export interface NotStarted {
  /** The configuration was invalid. */
  ok: false;
  /** Every problem, naming its variable and never a secret's value. */
  issues: readonly ConfigIssue[];
  /** The names of the wrong variables, each once. */
  variables: string[];
}

const CONSOLE_LOG: BootstrapLog = {
  error: (line) => console.error(`aqc-edge: ${line}`),
  warn: (line) => console.warn(`aqc-edge: ${line}`),
};

/**
 * Starts the gateway from an environment record.
 *
 * @param env `Deno.env.toObject()`, or a Worker's string bindings.
 * @param options Gateway options (transport, log) and the start-up log.
 * @returns The started gateway, or the configuration's issues.
 * @throws Only what is not a configuration problem (a bug).
 */
export function bootstrap(
  env: Record<string, string | undefined>,
  options: BootstrapOptions = {},
): Started | NotStarted {
  const { startupLog = CONSOLE_LOG, ...gatewayOptions } = options;
  let config: AqcConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Each line names its variable and never quotes a secret: safe to log.
      for (const issue of error.issues) startupLog.error(issue.message);
      return { ok: false, issues: error.issues, variables: error.variables };
    }
    if (isAqcError(error, "config_invalid")) {
      startupLog.error(error.message);
      return { ok: false, issues: [], variables: [] };
    }
    throw error;
  }
  for (const warning of config.warnings) startupLog.warn(warning);
  const tokens = createTokenManager(config, tokenOptionsWith(gatewayOptions));
  const app = createGateway(config, { ...gatewayOptions, tokens });
  const prewarm = async (officeIds?: readonly string[]): Promise<PrewarmResult[]> => {
    const results = await tokens.prewarm(officeIds ?? config.offices ?? []);
    for (const result of results) {
      if (!result.ok) {
        startupLog.warn(`prewarm of ${result.officeId} failed: ${result.code ?? "error"}`);
      }
    }
    return results;
  };
  return { ok: true, config, tokens, app, prewarm };
}
