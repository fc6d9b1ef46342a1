/**
 * `createGateway`: the Web-standard fetch handler (Hono) that calls AQC for its callers.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "@hono/hono";
// The tiny preset (PatternRouter): 5.6 KB less bundle (2.3 KiB gzip) than the default
// SmartRouter (RegExpRouter + TrieRouter), for a handful of routes matched just as fast.
import { Hono } from "@hono/hono/tiny";
import type { AqcConfig, GatewayKey } from "../config/load_config.ts";
import { AqcError } from "../errors.ts";
import { createAqcCall } from "../fetch/aqc_fetch.ts";
import { SharedTimeouts } from "../fetch/timeouts.ts";
import { normalizeOfficeId } from "../office.ts";
import type { TokenManager } from "../token/manager.ts";
import {
  bearerValue,
  callerAuthMiddleware,
  GatewayKeyVerifier,
  keyAllowsOffice,
} from "./caller_auth.ts";
import { type BodyRefusal, readBodyWithin } from "./body_limit.ts";
import { warmProxyRequest } from "./fast_path.ts";
import { createProxy, type ProxyRequest, type RequestIds } from "./proxy.ts";
import { callerRequestId, labelRequest, requestPolicy } from "./request_policy.ts";
import { problem } from "./problem.ts";
import { problemFromError } from "./problem_from_error.ts";
import { createTokenManager, type CreateTokenManagerOptions } from "./token_manager.ts";
import { createOpsGuard, type GuardEvent, opsGuardUsesRedis } from "./ops_guard.ts";
import { opsRedisFor } from "./shared/ops_redis_for.ts";
import { ownRouteHeaders } from "./own_headers.ts";
import { RequestStats } from "./status/stats.ts";
import { statusRoute } from "./status/route.ts";
import { type GatewayTelemetry, tokenOptionsWith } from "./telemetry.ts";

/** Hono environment of the gateway: the authenticated key lives in `c.var.gatewayKey`. */
export type GatewayEnv = {
  Variables: {
    gatewayKey: GatewayKey;
    requestId: string;
    /** The proxied request's body, read and held to the limit. */
    body: Uint8Array<ArrayBuffer> | null;
  };
};

/** The part of a Workers `ExecutionContext` the gateway uses. */
export interface GatewayExecutionContext {
  /** Keeps the isolate alive until the promise settles. */
  waitUntil(promise: Promise<unknown>): void;
  /** Lets the runtime fall back to the origin on an exception. */
  passThroughOnException(): void;
}

/**
 * The gateway: a Hono app. Its `fetch` is the Web-standard handler for `deno serve`,
 * `Deno.serve`, Workers and service bindings; `request` is Hono's test helper. Mount it in
 * another Hono app with `app.mount("/", gateway.fetch)`.
 */
export interface GatewayApp {
  /** Handles one request; on Workers pass `env` and `ctx` through. */
  fetch(
    request: Request,
    env?: unknown,
    executionCtx?: GatewayExecutionContext,
  ): Response | Promise<Response>;
  /** Sends a request to the app without a server (tests, scripts). */
  request(input: string | URL | Request, init?: RequestInit): Response | Promise<Response>;
}

/** One line of the gateway's log; never holds a secret, a token or a key. */
export interface GatewayLogEntry {
  /** `warn` for answers of 500 and above, `error` for unexpected failures. */
  level: "warn" | "error";
  /** What happened. */
  message: string;
  /** The problem code. */
  code: string;
  /** The gateway's id of the request, sent as `X-Request-Id` on every answer. */
  requestId?: string;
  /** The caller's own `X-Request-Id`, bounded and sanitised (never used as the id). */
  callerRequestId?: string;
  /** The `id` of the caller's gateway key, once authenticated. */
  keyId?: string;
  /** The office, canonical, when known. */
  officeId?: string;
}

/** Options of {@linkcode createGateway}. */
export interface GatewayOptions extends CreateTokenManagerOptions {
  /** A ready token manager (shared with a cron prewarm); default built from `config`. */
  tokens?: TokenManager;
  /** Log sink; default `console.warn` of one JSON line. */
  log?: (entry: GatewayLogEntry) => void;
  /** Caller rate-limit rejections and AQC 429 holds, for metrics. */
  onGuardEvent?: (event: GuardEvent) => void;
  /** Traces and metrics (e.g. `otelTelemetry()` of the `./otel` entry); default none. */
  telemetry?: GatewayTelemetry;
}

/**
 * The request's `ctx.waitUntil` (Workers), looked up only when background work is handed
 * over. Looking it up on every request cost an `Error` with its stack on Deno, where Hono's
 * `executionCtx` getter throws for lack of one; when it throws, whoever handed the work
 * over runs it by itself.
 */
function executionWaitUntil(c: Context): (p: Promise<unknown>) => void {
  return (promise) => c.executionCtx.waitUntil(promise);
}

/**
 * Creates the gateway: a Hono app whose `fetch` is a Web-standard handler for Deno
 * (`deno serve`), Cloudflare Workers and service bindings.
 *
 * - `ALL /aqc/:office/*` → `{AQC_API_URL}/*` with the caller's method, query, body and
 *   end-to-end headers, their key replaced by the AQC bearer; the answer streams back
 *   unchanged, with `Server-Timing` naming the token source.
 * - `GET /healthz` (no I/O), `GET /readyz` (store reachable), `POST /token/:office` when
 *   `AQC_EXPOSE_TOKENS=true`.
 * - Callers authenticate with `Authorization: Bearer <gateway key>`; errors are
 *   `application/problem+json`.
 *
 * @example
 * ```ts ignore
 * import { createGateway, loadConfig } from "@aqc-edge/aqc-edge/gateway";
 *
 * const app = createGateway(loadConfig(Deno.env.toObject()));
 * Deno.serve(app.fetch);
 * ```
 *
 * @param config The loaded configuration (needs gateway keys).
 * @param options Token manager, transport and log overrides.
 * @returns The Hono app.
 * @throws {AqcError} `config_invalid` when no gateway key is configured.
 */
export function createGateway(config: AqcConfig, options: GatewayOptions = {}): GatewayApp {
  if (config.gatewayKeys.length === 0) {
    throw new AqcError("config_invalid", "AQC_GATEWAY_KEYS is required for the gateway");
  }
  const telemetry = options.telemetry;
  const tokens = options.tokens ?? createTokenManager(config, tokenOptionsWith(options));
  const transport = telemetry ? telemetry.wrapFetch(options.fetch ?? fetch) : options.fetch;
  const call = createAqcCall({
    tokens,
    timeoutMs: config.upstreamTimeoutMs,
    ...(transport ? { fetch: transport } : {}),
  });
  const log = options.log ?? ((entry: GatewayLogEntry) => console.warn(JSON.stringify(entry)));
  const storeKind = options.store ? "custom" : config.upstash ? "upstash" : "memory";
  // Rate limits and AQC 429 holds (src/gateway/ops_guard.ts); a client only if they use it.
  const opsRedis = opsGuardUsesRedis(config) ? opsRedisFor(config, options.redis) : undefined;
  // Requests per office are counted only when someone may read them (an admin key).
  const stats = config.gatewayKeys.some((key) => key.admin === true)
    ? new RequestStats()
    : undefined;
  const guard = createOpsGuard(config, {
    ...(opsRedis === undefined ? {} : { redis: opsRedis }),
    ...(stats === undefined ? {} : { stats }),
    ...(options.onGuardEvent === undefined && telemetry === undefined ? {} : {
      onEvent: (event: GuardEvent) => {
        telemetry?.onGuardEvent(event);
        options.onGuardEvent?.(event);
      },
    }),
  });
  telemetry?.bind(tokens, guard);

  const fail = (error: unknown, ids: RequestIds, officeId?: string): Response => {
    const callerId = callerRequestId(ids.headers);
    const who = {
      requestId: ids.requestId,
      ...(callerId === undefined ? {} : { callerRequestId: callerId }),
      ...(ids.key === undefined ? {} : { keyId: ids.key.id }),
    };
    if (error instanceof AqcError) {
      const response = problemFromError(error);
      if (response.status >= 500) {
        log({
          level: "warn",
          message: error.message,
          code: error.code,
          ...who,
          ...(officeId ? { officeId } : {}),
        });
      }
      return response;
    }
    log({
      level: "error",
      message: error instanceof Error ? error.name : "Unknown error",
      code: "internal_error",
      ...who,
    });
    return problem("internal_error", "The gateway failed to handle the request");
  };
  const idsOf = (c: Context<GatewayEnv>): RequestIds => ({
    requestId: c.get("requestId"),
    headers: c.req.raw.headers,
    key: c.get("gatewayKey"),
  });
  const proxy = createProxy({ config, call, guard, fail, telemetry });

  const app = new Hono<GatewayEnv>();
  // Telemetry first, so that the server span also covers the answers the policy gives itself
  // (405s); then the method allowlist and the gateway's own request id on every answer.
  if (telemetry) app.use((c, next) => telemetry.middleware(c, next));
  app.use(requestPolicy());

  const unauthorized = (c: Context) => {
    const detail = c.req.header("authorization") === undefined
      ? "Send Authorization: Bearer <gateway key>"
      : "The gateway key is not valid";
    return problem("unauthorized", detail, {
      headers: { "www-authenticate": 'Bearer realm="aqc-edge"' },
    });
  };
  const verifier = new GatewayKeyVerifier(config.gatewayKeys);
  const callerAuth = callerAuthMiddleware(verifier, unauthorized);
  /**
   * A body over the limit is a 413; one that stopped arriving (the caller hung up mid-body,
   * or broke its framing) is answered like a caller gone before the answer, 499; one still
   * trickling in after AQC_UPSTREAM_TIMEOUT_MS, 408. No log line for either: they are not
   * the gateway's failures, and a caller must not fill its error log.
   */
  // Body deadlines follow a shared timeout per 100 ms, as the AQC calls do: a timer per
  // request cost more than the body's read.
  const bodyDeadlines = new SharedTimeouts();
  const readBody = async (request: Request) => {
    const deadline = bodyDeadlines.deadline(config.upstreamTimeoutMs);
    try {
      return await readBodyWithin(request, config.maxBodyBytes, deadline.signal);
    } finally {
      deadline.release();
    }
  };
  const refusedBody = (refusal: BodyRefusal): Response =>
    refusal === "too_large"
      ? problem("payload_too_large", `Request body exceeds ${config.maxBodyBytes} bytes`)
      : new Response(null, { status: refusal === "slow" ? 408 : 499 });
  const own = ownRouteHeaders;

  /**
   * The proxy route's single middleware: caller auth, then the body limit when there is a
   * body (`readBodyWithin`). A caller whose key was verified before is recognised here,
   * parsing `Authorization` exactly as callerAuth does (see `bearerValue`), so a warm request
   * skips two middleware layers and callerAuth's checks; anyone else goes through
   * callerAuth, its hashing and its answers.
   */
  const callerGuard: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    const limited = async (): Promise<void> => {
      if (c.req.raw.body === null) return await next();
      const body = await readBody(c.req.raw);
      if (typeof body === "string") {
        c.res = refusedBody(body);
        return;
      }
      c.set("body", body);
      await next();
    };
    const presented = bearerValue(c.req.raw.headers.get("authorization"));
    const key = presented === undefined ? undefined : verifier.known(presented);
    // callerAuth is typed for the default Hono environment, like Hono's own middleware.
    if (key === undefined) return await callerAuth(c as unknown as Context, limited);
    c.set("gatewayKey", key);
    await limited();
  };

  app.get("/healthz", own, (c) => c.json({ status: "ok" }, 200, { "cache-control": "no-store" }));

  app.get("/readyz", own, async (c) => {
    // A read of an id nobody uses: proves the store answers, costs one command.
    const started = performance.now();
    const probe = await tokens.probeStore();
    const body = {
      status: probe ? "ready" : "not_ready",
      store: storeKind,
      storeMs: Math.round((performance.now() - started) * 10) / 10,
    };
    return c.json(body, probe ? 200 : 503, { "cache-control": "no-store" });
  });

  if (stats !== undefined) {
    const sources = { inspect: () => tokens.inspect(), guard, stats, storeKind };
    app.get("/status", own, callerAuth, statusRoute(sources));
  }

  if (config.exposeTokens) {
    app.post("/token/:office", own, callerAuth, async (c) => {
      let officeId: string;
      try {
        officeId = normalizeOfficeId(c.req.param("office"));
      } catch (error) {
        return fail(error, idsOf(c));
      }
      if (!keyAllowsOffice(c.get("gatewayKey"), officeId, config.offices)) {
        return problem("office_forbidden", `This gateway key may not call office ${officeId}`);
      }
      try {
        // No caller signal: the token flight is shared, and a token costs nothing to keep.
        const token = await tokens.getToken(officeId);
        return c.json(
          {
            access_token: token.accessToken,
            token_type: "Bearer",
            expires_in: Math.max(0, Math.floor((token.usableUntil - Date.now()) / 1000)),
            office_id: token.officeId,
          },
          200,
          { "cache-control": "no-store" },
        );
      } catch (error) {
        return fail(error, idsOf(c), officeId);
      }
    });
  }

  app.all("/aqc/:office/*", callerGuard, (c) => {
    // On `deno serve` the second handler argument (Hono's env) is the ServeHandlerInfo,
    // whose `completed` settles once the answer is sent.
    const completed = (c.env as { completed?: unknown } | undefined)?.completed;
    return proxy({
      request: c.req.raw,
      key: c.get("gatewayKey"),
      office: c.req.param("office"),
      requestId: c.get("requestId"),
      completed: completed instanceof Promise ? completed : undefined,
      waitUntil: executionWaitUntil(c),
      // Unset when there was no body to read (callerGuard reads only bodies).
      body: c.get("body") ?? null,
    });
  });

  app.notFound(() => problem("not_found", "No such route"));
  // No Hono middleware is left that throws an HTTPException: every answer the gateway
  // gives itself is a problem, and anything thrown is a failure to log.
  app.onError((error, c) => fail(error, idsOf(c)));

  // Without telemetry (whose middleware wraps every request in a span), a warm caller's
  // proxied request skips Hono: routing, context, middleware composition and the layers of
  // the policy cost several microseconds per request (bench/PROFILES.md). A body is held to
  // the same limit first. Anything else (a first request of a key, HEAD, any other route,
  // any doubt about the path) goes through the app, which answers it the same way.
  // Hono's own ExecutionContext type asks for more than the gateway uses (`props`).
  const slow: GatewayApp = app;
  if (telemetry !== undefined) return slow;
  const handle = (
    request: Request,
    env?: unknown,
    executionCtx?: GatewayExecutionContext,
  ): Response | Promise<Response> => {
    const warm = warmProxyRequest(request, verifier);
    if (warm === undefined) return slow.fetch(request, env, executionCtx);
    const completed = (env as { completed?: unknown } | undefined)?.completed;
    const proxied: ProxyRequest = {
      request,
      key: warm.key,
      office: warm.office,
      requestId: crypto.randomUUID(),
      completed: completed instanceof Promise ? completed : undefined,
      waitUntil: executionCtx === undefined
        ? undefined
        : (promise) => executionCtx.waitUntil(promise),
      body: null,
    };
    return request.body === null ? proxy(proxied) : proxyWithBody(proxied);
  };
  /** A body goes through the same limit as on the Hono route, with the same answers. */
  const proxyWithBody = async (proxied: ProxyRequest): Promise<Response> => {
    const body = await readBody(proxied.request);
    if (typeof body === "string") return labelRequest(refusedBody(body), proxied.requestId);
    return await proxy({ ...proxied, body });
  };

  return {
    fetch: handle,
    // As Hono's `app.request` builds the request, but through the same front door.
    request: (input, init) => {
      if (input instanceof Request) {
        return handle(init === undefined ? input : new Request(input, init));
      }
      const text = input.toString();
      const url = /^https?:\/\//.test(text)
        ? text
        : `http://localhost${text.startsWith("/") ? "" : "/"}${text}`;
      return handle(new Request(url, init));
    },
  };
}
