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
 * - The `scheduled` handler (the cron trigger of `wrangler.toml`, every four minutes) prewarms
 *   `AQC_OFFICES`, so requests never wait for a token request.
 *
 * - Telemetry is opt-in: the default export (`createAqcWorker()`, what `deno task build:worker`
 *   deploys) loads nothing of OpenTelemetry. For traces and metrics, write your own entry
 *   (below) that passes `telemetry` to {@linkcode createAqcWorker} and exports the entrypoint
 *   {@linkcode createAqcEntrypoint} makes from the same worker, then bundle that entry instead.
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
 * @example Telemetry: your own entry (built like `deno task build:worker` builds this one)
 * ```ts
 * import { createAqcEntrypoint, createAqcWorker } from "@aqc-edge/aqc-edge/worker";
 * import { otelTelemetry } from "@aqc-edge/aqc-edge/otel";
 *
 * // Your OpenTelemetry SDK registers its tracer and meter providers before the first request
 * // (or pass them: `otelTelemetry({ tracerProvider, meterProvider })`).
 * const worker = createAqcWorker({ telemetry: () => otelTelemetry() });
 * const AqcGateway = createAqcEntrypoint(worker);
 * export { AqcGateway, worker as default };
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
import { AqcError, type AqcErrorCode } from "./errors.ts";
import { problem } from "./gateway/problem.ts";
import type { GatewayTelemetry } from "./gateway/telemetry.ts";
import { normalizeOfficeId } from "./office.ts";
import type { PrewarmResult } from "./token/manager.ts";
import type { TokenSource } from "./token/types.ts";
import {
  type Instance,
  instanceCache,
  type InstanceFor,
  writeWarnings,
} from "./worker/instances.ts";

// The types the exports below mention, so the module documents itself completely.
export type { AqcErrorCode, GatewayTelemetry, PrewarmResult, TokenSource };
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

/** The instance cache of each worker {@linkcode createAqcWorker} made. */
const caches = new WeakMap<object, InstanceFor<AqcWorkerEnv>>();
/** The instance cache of each entrypoint class {@linkcode createAqcEntrypoint} made. */
const entrypointCaches = new WeakMap<object, InstanceFor<AqcWorkerEnv>>();

function configInvalid(invalid: readonly string[]): Response {
  const names = invalid.length > 0 ? invalid.join(", ") : "see the Worker logs";
  return problem("config_invalid", `The gateway configuration is invalid: ${names}`);
}

async function handle(
  instance: Instance,
  request: Request,
  env: object,
  ctx: ExecutionContext,
): Promise<Response> {
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
 * This class serves the gateway of the default export. An entry of your own exports
 * {@linkcode createAqcEntrypoint}`(worker)` instead, so that both share one gateway.
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
  /** The instance of this class's worker: the default one, or `createAqcEntrypoint`'s. */
  #instance(): Instance {
    // A subclass (of this class or of a createAqcEntrypoint class) keeps its parent's worker.
    for (let c: unknown = this.constructor; typeof c === "function"; c = Object.getPrototypeOf(c)) {
      const instanceFor = entrypointCaches.get(c);
      if (instanceFor !== undefined) return instanceFor(this.env);
    }
    throw new TypeError("AqcGateway: no worker"); // unreachable: AqcGateway itself is registered
  }

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
    return handle(this.#instance(), request, this.env, this.ctx);
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
    const instance = this.#instance();
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
    const instance = this.#instance();
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

/** A Worker's handlers: what {@linkcode createAqcWorker} returns, to `export default`. */
export interface AqcWorker {
  /**
   * Answers one HTTP request with the gateway.
   *
   * @param request The request.
   * @param env The bindings.
   * @param ctx The execution context; its `waitUntil` carries background refreshes.
   * @returns The answer.
   */
  fetch(request: Request, env: AqcWorkerEnv, ctx: ExecutionContext): Promise<Response>;
  /**
   * Prewarms `AQC_OFFICES` on the cron trigger. Never fails the event: per-office failures
   * are logged, and the next run (four minutes later, inside the five-minute refresh window)
   * tries again.
   *
   * @param controller The cron event.
   * @param env The bindings.
   * @param ctx The execution context; the prewarm runs under its `waitUntil`.
   */
  scheduled(controller: ScheduledController, env: AqcWorkerEnv, ctx: ExecutionContext): void;
}

/** Options of {@linkcode createAqcWorker}. */
export interface AqcWorkerOptions {
  /**
   * Traces and metrics of the gateway, e.g. `otelTelemetry()` of `@aqc-edge/aqc-edge/otel`
   * (which records through the tracer and meter providers you registered), or a function of
   * the Worker's bindings returning them (or `undefined` for none). The function runs once per
   * isolate, on the first request or cron event, so it may read `env` and build an SDK there
   * (workerd refuses random values and I/O at module scope); if it throws, the error's name is
   * logged and the gateway serves without telemetry. Default: none, and nothing of
   * OpenTelemetry is loaded.
   */
  telemetry?: GatewayTelemetry | ((env: AqcWorkerEnv) => GatewayTelemetry | undefined);
}

function workerOf(instanceFor: InstanceFor<AqcWorkerEnv>): AqcWorker {
  const worker: AqcWorker = {
    fetch(request: Request, env: AqcWorkerEnv, ctx: ExecutionContext): Promise<Response> {
      return handle(instanceFor(env), request, env, ctx);
    },
    scheduled(controller: ScheduledController, env: AqcWorkerEnv, ctx: ExecutionContext): void {
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
  caches.set(worker, instanceFor);
  return worker;
}

/**
 * Creates the Worker's handlers, `{ fetch, scheduled }`, for an entry of your own: the
 * gateway with options, chiefly `telemetry`. The default export is `createAqcWorker()`. Each
 * call has its own gateway per isolate (built on its first request); pair it with
 * {@linkcode createAqcEntrypoint} so that service-binding callers share it.
 *
 * @example Telemetry where a binding switches it on
 * ```ts
 * import { createAqcEntrypoint, createAqcWorker } from "@aqc-edge/aqc-edge/worker";
 * import { otelTelemetry } from "@aqc-edge/aqc-edge/otel";
 *
 * const worker = createAqcWorker({
 *   // Runs once per isolate, on its first request or cron event.
 *   telemetry: (env) => env.OTEL_ENABLED === "true" ? otelTelemetry() : undefined,
 * });
 * const AqcGateway = createAqcEntrypoint(worker);
 * export { AqcGateway, worker as default };
 * ```
 *
 * @param options The gateway's options; default none.
 * @returns The handlers, for `export default`.
 */
export function createAqcWorker(options: AqcWorkerOptions = {}): AqcWorker {
  return workerOf(instanceCache(options.telemetry));
}

/**
 * The {@linkcode AqcGateway} entrypoint of a worker made by {@linkcode createAqcWorker}:
 * service-binding callers then reach the same gateway (one token cache per isolate, the same
 * telemetry) as HTTP. Export it under the name consumers bind, e.g. `AqcGateway`.
 *
 * @example
 * ```ts ignore
 * const worker = createAqcWorker({ telemetry: otelTelemetry() });
 * const AqcGateway = createAqcEntrypoint(worker);
 * export { AqcGateway, worker as default };
 * ```
 *
 * @param worker A worker returned by {@linkcode createAqcWorker}.
 * @returns A class extending `AqcGateway`, bound to `worker`.
 * @throws {TypeError} When `worker` was not made by `createAqcWorker`.
 */
export function createAqcEntrypoint(worker: AqcWorker): typeof AqcGateway {
  const instanceFor = caches.get(worker);
  if (instanceFor === undefined) {
    throw new TypeError("createAqcEntrypoint: pass a worker made by createAqcWorker");
  }
  const entrypoint = class extends AqcGateway {};
  entrypointCaches.set(entrypoint, instanceFor);
  return entrypoint;
}

const defaultInstances = instanceCache<AqcWorkerEnv>(undefined);
entrypointCaches.set(AqcGateway, defaultInstances);

/**
 * The Worker's default export, `createAqcWorker()`: the gateway for HTTP (and for service
 * bindings without `entrypoint`), and the cron prewarm of `AQC_OFFICES`. It shares its gateway
 * with {@linkcode AqcGateway}; it has no telemetry (see {@linkcode createAqcWorker}).
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
const worker: AqcWorker = workerOf(defaultInstances);

export default worker;
