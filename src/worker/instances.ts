/**
 * The gateway of a Worker isolate: built from the string bindings on first use, once per
 * configuration, and shared by every handler of one worker (`createAqcWorker`).
 *
 * @module
 */
import type { AqcConfig } from "../config/load_config.ts";
import { bootstrap } from "../gateway/bootstrap.ts";
import type { GatewayApp } from "../gateway/create_gateway.ts";
import type { GatewayTelemetry } from "../gateway/telemetry.ts";
import type { PrewarmResult, TokenManager } from "../token/manager.ts";
import type { ExecutionContext } from "../types/cloudflare_workers.d.ts";
import { writeWarningsLater } from "../worker_startup.ts";

/** What an isolate built from one configuration: the gateway, or why there is none. */
export type Instance =
  | {
    ok: true;
    config: AqcConfig;
    tokens: TokenManager;
    app: GatewayApp;
    /** Prewarms offices, logging each failure (the bootstrap's). */
    prewarm(officeIds: readonly string[]): Promise<PrewarmResult[]>;
    /** Start-up warnings not written yet (see {@linkcode writeWarnings}). */
    warnings: string[];
  }
  | {
    ok: false;
    /** Names of the wrong variables, for answers. */
    invalid: string[];
  };

/** Telemetry, or a function of the bindings returning it, resolved once per instance. */
export type TelemetryOption<Env> =
  | GatewayTelemetry
  | ((env: Env) => GatewayTelemetry | undefined);

/** Finds (or builds) the instance for a Worker's `env`. */
export type InstanceFor<Env> = (env: Env) => Instance;

/** The string bindings only: `[vars]` and secrets, never service bindings or objects. */
function stringBindings(env: object): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") result[name] = value;
  }
  return result;
}

/** The telemetry of one instance; a throwing function means none. */
function telemetryOf<Env>(
  option: TelemetryOption<Env> | undefined,
  env: Env,
): GatewayTelemetry | undefined {
  if (typeof option !== "function") return option;
  try {
    return option(env) ?? undefined;
  } catch (error) {
    // Telemetry never breaks a request; the name only, as the message may quote a secret.
    const name = error instanceof Error ? error.name : typeof error;
    console.error(`aqc-edge: telemetry setup failed (${name}); serving without telemetry`);
    return undefined;
  }
}

function build(bindings: Record<string, string>, telemetry?: GatewayTelemetry): Instance {
  const warnings: string[] = [];
  let starting = true;
  const startupLog = {
    error: (line: string) => console.error(`aqc-edge: ${line}`),
    // Warnings of the start-up itself wait for `writeWarnings`; later ones (failed prewarms)
    // are written at once.
    warn: (line: string) => starting ? warnings.push(line) : console.warn(`aqc-edge: ${line}`),
  };
  const started = bootstrap(
    bindings,
    telemetry === undefined ? { startupLog } : {
      telemetry,
      startupLog,
    },
  );
  starting = false;
  if (!started.ok) {
    console.error("aqc-edge: configuration invalid; every request answers 500 config_invalid");
    // ConfigError.issues name the variables; no parsing of its lines.
    return { ok: false, invalid: started.variables };
  }
  const { config, tokens, app, prewarm } = started;
  return { ok: true, config, tokens, app, prewarm, warnings };
}

/**
 * Writes the instance's start-up warnings once, after the current invocation's answer.
 *
 * @param instance The instance.
 * @param ctx The invocation's context.
 */
export function writeWarnings(instance: Instance, ctx: ExecutionContext): void {
  if (instance.ok) writeWarningsLater(instance.warnings.splice(0), ctx);
}

/**
 * The instance cache of one worker: the instance for `env`, built on first use. Workers pass
 * the same `env` object to every invocation of an isolate, but the default export and a named
 * entrypoint may see distinct objects: both share one instance (one L1, one single-flight) as
 * long as their string bindings are equal. Module scope is per isolate, so nothing here
 * outlives a deployment.
 *
 * @param telemetry The worker's telemetry option; resolved when an instance is built.
 * @returns The lookup.
 */
export function instanceCache<Env extends object>(
  telemetry: TelemetryOption<Env> | undefined,
): InstanceFor<Env> {
  /** The instance of the current configuration, and its fingerprint (the string bindings). */
  let current: { fingerprint: string; instance: Instance } | undefined;
  /** Env objects already matched to an instance: the per-request fast path. */
  const seen = new WeakMap<object, Instance>();
  return (env) => {
    const known = seen.get(env);
    if (known !== undefined) return known;
    const bindings = stringBindings(env);
    const fingerprint = JSON.stringify(
      Object.keys(bindings).sort().map((name) => [name, bindings[name]]),
    );
    if (current?.fingerprint !== fingerprint) {
      current = { fingerprint, instance: build(bindings, telemetryOf(telemetry, env)) };
    }
    seen.set(env, current.instance);
    return current.instance;
  };
}
