/**
 * Cloudflare Workers entry: the aqc-edge gateway as a Worker (`export default { fetch,
 * scheduled }`) and as a named entrypoint, {@linkcode AqcGateway}, for other Workers of the
 * account that call it through a service binding.
 *
 * **workerd only.** It imports `cloudflare:workers`, so it does not load on Deno, Node, Bun or
 * other runtimes: there, serve `createGateway` from `@aqc-edge/aqc-edge/gateway`, or use the
 * token layer (`@aqc-edge/aqc-edge`) in your own Worker.
 *
 * - Configuration: the Worker's string bindings (`[vars]` and secrets) are the environment of
 *   `loadConfig` (DESIGN.md §5); service bindings and other objects are ignored. The gateway and
 *   its token manager are built once per isolate, on the first request, so the in-isolate
 *   token cache (L1) lives as long as the isolate.
 * - A bad configuration does not crash the isolate: every request answers a problem+json 500
 *   `config_invalid` that names the wrong variables (never their values), and the problem
 *   lines are logged once.
 * - Background token refreshes run under `ctx.waitUntil`, so they finish after the response.
 * - Start-up warnings (e.g. the in-memory store) are written once, after the first answer.
 * - OpenTelemetry: a tracer provider registered by the Worker's own setup is used; without one,
 *   `@opentelemetry/api` is not even evaluated.
 * - The `scheduled` handler (the cron trigger of `wrangler.toml`, every four minutes) prewarms
 *   `AQC_OFFICES`, so requests never wait for a token request.
 *
 * Build with `deno task build:worker` (`deno bundle`, `cloudflare:workers` left external),
 * which `wrangler.toml` runs as its `[build] command`.
 *
 * @example Deploy
 * ```sh
 * wrangler secret put AQC_CLIENT_SECRET
 * wrangler secret put AQC_GATEWAY_KEYS
 * wrangler secret put UPSTASH_REDIS_REST_TOKEN
 * wrangler secret put AQC_TOKEN_KEY
 * wrangler deploy
 * ```
 *
 * @example Call it from another Worker (its `wrangler.toml`)
 * ```toml
 * [[services]]
 * binding = "AQC"
 * service = "aqc-edge"
 * entrypoint = "AqcGateway"
 * ```
 *
 * @module
 */
// @ts-types="./types/cloudflare_workers.d.ts"
import { WorkerEntrypoint } from "cloudflare:workers";
import type { ExecutionContext, ScheduledController } from "./types/cloudflare_workers.d.ts";
import type { AqcConfig } from "./config/load_config.ts";
import { AqcError, type AqcErrorCode } from "./errors.ts";
import { bootstrap } from "./gateway/bootstrap.ts";
import type { GatewayApp } from "./gateway/create_gateway.ts";
import { problem } from "./gateway/problem.ts";
import { normalizeOfficeId } from "./office.ts";
import type { PrewarmResult, TokenManager } from "./token/manager.ts";
import type { TokenSource } from "./token/types.ts";
import {
  loadTelemetry,
  telemetryOption,
  telemetryPending,
  writeWarningsLater,
} from "./worker_startup.ts";

// The types the exports below mention, so the module documents itself completely.
export type { AqcErrorCode, PrewarmResult, TokenSource };
export type {
  ExecutionContext,
  ScheduledController,
  WorkerEntrypoint,
} from "./types/cloudflare_workers.d.ts";

/**
 * The bindings aqc-edge reads (DESIGN.md §5). Every one is a string: a `[vars]` entry or a
 * secret. Other bindings may exist (service bindings, KV, …); they are ignored.
 */
export interface AqcWorkerEnv {
  /** AQC API root, e.g. `https://test.travel.api.amadeus.com`. */
  AQC_API_URL?: string;
  /** The AQC client id. */
  AQC_CLIENT_ID?: string;
  /** The AQC client secret; a secret. */
  AQC_CLIENT_SECRET?: string;
  /** Comma list of the offices served and prewarmed. */
  AQC_OFFICES?: string;
  /** Upstash REST URL; absent = tokens cached per isolate only. */
  UPSTASH_REDIS_REST_URL?: string;
  /** Upstash REST token; a secret. */
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** base64url of 32 bytes, seals tokens in Upstash; a secret. */
  AQC_TOKEN_KEY?: string;
  /** JSON list of the callers' key hashes and offices; a secret. */
  AQC_GATEWAY_KEYS?: string;
  /** `true` enables `POST /token/:office`. */
  AQC_EXPOSE_TOKENS?: string;
  /** Any other binding. */
  [binding: string]: unknown;
}

/** One office's outcome of {@linkcode AqcGateway.prototype.prewarm}. */
export interface WorkerPrewarmResult extends Omit<PrewarmResult, "code"> {
  /** The error code when not `ok`; `office_forbidden` for an office outside `AQC_OFFICES`. */
  code?: AqcErrorCode | "office_forbidden";
}

/** The answer of {@linkcode AqcGateway.prototype.health}. */
export type WorkerHealth =
  | {
    /** `ready` when the token store answered, else `not_ready`. */
    status: "ready" | "not_ready";
    /** Where tokens are shared: `upstash`, or `memory` (this isolate only). */
    store: "upstash" | "memory";
    /** How long the store probe took, in ms. */
    storeMs: number;
    /** `AQC_OFFICES`, canonical, or `null` when any office is served. */
    offices: string[] | null;
  }
  | {
    /** The configuration is invalid; nothing is served. */
    status: "config_invalid";
    /** The names of the wrong variables (never their values). */
    invalid: string[];
  };

/** The most offices one {@linkcode AqcGateway.prototype.prewarm} call may name. */
const MAX_PREWARM_OFFICES = 100;

/** What an isolate built from one configuration: the gateway, or why there is none. */
type Instance =
  | {
    ok: true;
    config: AqcConfig;
    tokens: TokenManager;
    app: GatewayApp;
    /** Prewarms offices, logging each failure (the bootstrap's). */
    prewarm(officeIds: readonly string[]): Promise<PrewarmResult[]>;
    /** Start-up warnings not written yet (see `writeWarnings`). */
    warnings: string[];
  }
  | {
    ok: false;
    /** Names of the wrong variables, for answers. */
    invalid: string[];
  };

/** The instance of the current configuration, and its fingerprint (the string bindings). */
let current: { fingerprint: string; instance: Instance } | undefined;
/** Env objects already matched to an instance: the per-request fast path. */
const seen = new WeakMap<object, Instance>();

/** The string bindings only: `[vars]` and secrets, never service bindings or objects. */
function stringBindings(env: object): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") result[name] = value;
  }
  return result;
}

function build(bindings: Record<string, string>): Instance {
  const warnings: string[] = [];
  let starting = true;
  const startupLog = {
    error: (line: string) => console.error(`aqc-edge: ${line}`),
    // Warnings of the start-up itself wait for `writeWarnings`; later ones (failed prewarms)
    // are written at once.
    warn: (line: string) => starting ? warnings.push(line) : console.warn(`aqc-edge: ${line}`),
  };
  // A provider registered by the Worker's own OpenTelemetry setup is used; none = no cost.
  const started = bootstrap(bindings, { ...telemetryOption(), startupLog });
  starting = false;
  if (!started.ok) {
    console.error("aqc-edge: configuration invalid; every request answers 500 config_invalid");
    // ConfigError.issues name the variables; no parsing of its lines.
    return { ok: false, invalid: started.variables };
  }
  const { config, tokens, app, prewarm } = started;
  return { ok: true, config, tokens, app, prewarm, warnings };
}

/** Writes the instance's start-up warnings once, after the current invocation's answer. */
function writeWarnings(instance: Instance, ctx: ExecutionContext): void {
  if (instance.ok) writeWarningsLater(instance.warnings.splice(0), ctx);
}

/**
 * The instance for `env`, built on first use. Workers pass the same `env` object to every
 * invocation of an isolate, but the default export and a named entrypoint may see distinct
 * objects: both share one instance (one L1, one single-flight) as long as their string
 * bindings are equal. Module scope is per isolate, so nothing here outlives a deployment.
 */
function instanceFor(env: object): Instance {
  const known = seen.get(env);
  if (known !== undefined) return known;
  const bindings = stringBindings(env);
  const fingerprint = JSON.stringify(
    Object.keys(bindings).sort().map((name) => [name, bindings[name]]),
  );
  if (current?.fingerprint !== fingerprint) current = { fingerprint, instance: build(bindings) };
  seen.set(env, current.instance);
  return current.instance;
}

/** `instanceFor` once the OpenTelemetry wiring it may need is loaded. */
async function loadInstance(env: object): Promise<Instance> {
  await loadTelemetry();
  return instanceFor(env);
}

function configInvalid(invalid: readonly string[]): Response {
  const names = invalid.length > 0 ? invalid.join(", ") : "see the Worker logs";
  return problem("config_invalid", `The gateway configuration is invalid: ${names}`);
}

async function handle(request: Request, env: object, ctx: ExecutionContext): Promise<Response> {
  const instance = seen.get(env) ?? await loadInstance(env);
  if (!instance.ok) return configInvalid(instance.invalid);
  writeWarnings(instance, ctx);
  // Hono hands `ctx` to the gateway as `c.executionCtx`, whose `waitUntil` keeps
  // background token refreshes alive after the response.
  return await instance.app.fetch(request, env, ctx);
}

/**
 * Named entrypoint for Workers of the same account, bound with
 * `[[services]] binding = "AQC", service = "aqc-edge", entrypoint = "AqcGateway"`.
 *
 * Trust model: a service binding can only be created inside the account, but every Worker of
 * the account could add one. So `fetch` is the gateway itself and requires a gateway key
 * (`Authorization: Bearer <key>`) exactly like HTTP: each caller keeps its own key, its office
 * scope and its id in logs, and a binding alone grants no access to AQC. The RPC methods expose
 * nothing of AQC: `prewarm` only fills the cache of the offices the gateway serves (a fresh
 * token is never requested twice), `health` reports readiness. There is deliberately no RPC
 * method returning tokens or calling AQC without a key; `POST /token/:office` over `fetch`
 * (with a key and `AQC_EXPOSE_TOKENS=true`) covers callers that need a raw token.
 *
 * @example From a consumer Worker
 * ```ts ignore
 * const response = await env.AQC.fetch(
 *   new Request("https://aqc/aqc/NCE1A0955/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1"),
 *   { headers: { authorization: `Bearer ${env.AQC_GATEWAY_KEY}` } },
 * );
 * const health = await env.AQC.health(); // { status: "ready", store: "upstash", … }
 * ```
 */
export class AqcGateway extends WorkerEntrypoint<AqcWorkerEnv> {
  /**
   * The gateway over the service binding: same routes, same gateway-key check as HTTP.
   * The URL's host is ignored; only its path and query matter.
   *
   * @example
   * ```ts ignore
   * const res = await env.AQC.fetch("https://aqc/healthz");
   * ```
   *
   * @param request The request, e.g. `https://aqc/aqc/NCE1A0955/v2/shopping/flight-offers?…`.
   * @returns The gateway's answer.
   */
  override fetch(request: Request): Promise<Response> {
    return handle(request, this.env, this.ctx);
  }

  /**
   * Makes sure the offices have a token that is not due for refresh (RPC). The work runs in
   * this call (the caller awaits it), so no `waitUntil` is needed.
   *
   * @example
   * ```ts ignore
   * const results = await env.AQC.prewarm(["NCE1A0955"]);
   * console.log(results.filter((r) => !r.ok));
   * ```
   *
   * @param officeIds The offices to warm, at most 100; default `AQC_OFFICES` (none when unset).
   *   With `AQC_OFFICES` set, other offices are answered `office_forbidden`.
   * @returns One result per office, in order.
   * @throws {AqcError} `config_invalid` when the gateway's configuration is invalid.
   * @throws {TypeError} When `officeIds` is not an array of strings.
   * @throws {RangeError} When it names more than 100 offices.
   */
  async prewarm(officeIds?: readonly string[]): Promise<WorkerPrewarmResult[]> {
    const instance = await loadInstance(this.env);
    if (!instance.ok) {
      throw new AqcError("config_invalid", `Invalid configuration: ${instance.invalid.join(", ")}`);
    }
    writeWarnings(instance, this.ctx);
    const served = instance.config.offices;
    if (officeIds === undefined) return await instance.prewarm(served ?? []);
    // RPC arguments come from another Worker: check them like any input.
    if (!Array.isArray(officeIds) || !officeIds.every((id) => typeof id === "string")) {
      throw new TypeError("officeIds must be an array of office id strings");
    }
    if (officeIds.length > MAX_PREWARM_OFFICES) {
      throw new RangeError(`At most ${MAX_PREWARM_OFFICES} offices per prewarm call`);
    }
    const results: (WorkerPrewarmResult | undefined)[] = officeIds.map((raw) => {
      if (served === undefined) return undefined;
      let officeId: string;
      try {
        officeId = normalizeOfficeId(raw);
      } catch {
        return undefined; // TokenManager.prewarm reports office_invalid
      }
      return served.includes(officeId)
        ? undefined
        : { officeId, ok: false, code: "office_forbidden" };
    });
    const allowed = officeIds.filter((_, i) => results[i] === undefined);
    const warmed = await instance.prewarm(allowed);
    let next = 0;
    return results.map((result) => result ?? warmed[next++]);
  }

  /**
   * Readiness over RPC, like `GET /readyz`: whether the configuration is valid and the token
   * store answers (one store command). No gateway key is needed; nothing secret is returned.
   *
   * @example
   * ```ts ignore
   * const health = await env.AQC.health();
   * if (health.status !== "ready") console.warn(health);
   * ```
   *
   * @returns The status, the store kind and its probe time, or the invalid variables.
   */
  async health(): Promise<WorkerHealth> {
    const instance = await loadInstance(this.env);
    if (!instance.ok) return { status: "config_invalid", invalid: [...instance.invalid] };
    writeWarnings(instance, this.ctx);
    const started = performance.now();
    const ready = await instance.tokens.probeStore();
    return {
      status: ready ? "ready" : "not_ready",
      store: instance.config.upstash !== undefined ? "upstash" : "memory",
      storeMs: Math.round((performance.now() - started) * 10) / 10,
      offices: instance.config.offices !== undefined ? [...instance.config.offices] : null,
    };
  }
}

/** The shape of the Worker's default export. */
export interface AqcWorker {
  /** Answers one HTTP request with the gateway. */
  fetch(request: Request, env: AqcWorkerEnv, ctx: ExecutionContext): Promise<Response>;
  /** Prewarms `AQC_OFFICES` on the cron trigger. */
  scheduled(controller: ScheduledController, env: AqcWorkerEnv, ctx: ExecutionContext): void;
}

/**
 * The Worker's default export: the gateway for HTTP (and for service bindings without
 * `entrypoint`), and the cron prewarm of `AQC_OFFICES`.
 *
 * @example wrangler.toml
 * ```toml
 * name = "aqc-edge"
 * main = "dist/worker.js"
 * no_bundle = true
 *
 * [build]
 * command = "deno task build:worker"
 * ```
 */
const worker: AqcWorker = {
  /**
   * Answers one HTTP request with the gateway.
   *
   * @param request The request.
   * @param env The bindings.
   * @param ctx The execution context; its `waitUntil` carries background refreshes.
   * @returns The answer.
   */
  fetch(request: Request, env: AqcWorkerEnv, ctx: ExecutionContext): Promise<Response> {
    return handle(request, env, ctx);
  },

  /**
   * Prewarms `AQC_OFFICES` on the cron trigger. Never fails the event: per-office failures
   * are logged, and the next run (four minutes later, inside the five-minute refresh window)
   * tries again.
   *
   * @param controller The cron event.
   * @param env The bindings.
   * @param ctx The execution context; the prewarm runs under its `waitUntil`.
   */
  scheduled(controller: ScheduledController, env: AqcWorkerEnv, ctx: ExecutionContext): void {
    if (!seen.has(env) && telemetryPending()) {
      // The isolate's first event, with a provider to wire: load it first.
      ctx.waitUntil(loadTelemetry().then(() => worker.scheduled(controller, env, ctx)));
      return;
    }
    const instance = instanceFor(env);
    if (!instance.ok) {
      console.error(
        `aqc-edge: prewarm skipped, configuration invalid: ${instance.invalid.join(", ")}`,
      );
      // Retrying cannot fix a configuration; the next deployment will.
      controller.noRetry();
      return;
    }
    writeWarnings(instance, ctx);
    const offices = instance.config.offices;
    if (offices === undefined) {
      console.warn("aqc-edge: AQC_OFFICES is not set: nothing to prewarm");
      return;
    }
    ctx.waitUntil(instance.prewarm(offices));
  },
};

export default worker;
