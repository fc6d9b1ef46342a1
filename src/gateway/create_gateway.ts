/**
 * `createGateway`: the Web-standard fetch handler (Hono) that calls AQC for its callers.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "@hono/hono";
// The tiny preset (PatternRouter): 5.6 KB less bundle (2.3 KiB gzip) than the default
// SmartRouter (RegExpRouter + TrieRouter), for a handful of routes matched just as fast.
import { Hono } from "@hono/hono/tiny";
import { bearerAuth } from "@hono/hono/bearer-auth";
import { bodyLimit } from "@hono/hono/body-limit";
import { HTTPException } from "@hono/hono/http-exception";
import { secureHeaders } from "@hono/hono/secure-headers";
import type { AqcConfig, GatewayKey } from "../config/load_config.ts";
import { AqcError } from "../errors.ts";
import { createAqcFetch } from "../fetch/aqc_fetch.ts";
import { normalizeOfficeId } from "../office.ts";
import type { TokenManager } from "../token/manager.ts";
import { GatewayKeyVerifier, keyAllowsOffice } from "./caller_auth.ts";
import { forwardRequestHeaders, forwardResponseHeaders } from "./headers.ts";
import { isSecurityPath } from "./path_policy.ts";
import { ABANDONABLE_METHODS, callerRequestId, requestPolicy } from "./request_policy.ts";
import { problem } from "./problem.ts";
import { problemFromError } from "./problem_from_error.ts";
import { createTokenManager, type CreateTokenManagerOptions } from "./token_manager.ts";
import { createOpsGuard, type GuardEvent, opsGuardUsesRedis } from "./ops_guard.ts";
import { opsRedisFor } from "./shared/ops_redis_for.ts";
import { RequestStats } from "./status/stats.ts";
import { statusRoute } from "./status/route.ts";
import { type GatewayTelemetry, tokenOptionsWith } from "./telemetry.ts";

/** Hono environment of the gateway: the authenticated key lives in `c.var.gatewayKey`. */
export type GatewayEnv = {
  Variables: {
    gatewayKey: GatewayKey;
    requestId: string;
    /** The office of `/aqc/:office/*` as resolved once per request (see `officeFor`). */
    office: string | Response;
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

const ROUTE_PREFIX = "/aqc/";

/**
 * A `Host` header that is `host[:port]` (RFC 9110 §7.2): a reg-name, IPv4 or IP literal. The
 * server builds `request.url` from it, so one holding `/`, `?`, `#`, `@`, `\` or spaces
 * (e.g. `evil.example/aqc/OTHER1234`) would move the path the route and the upstream path
 * are read from.
 */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{1,5})?$/;

/**
 * The request's `ctx.waitUntil` (Workers), looked up only when the token manager has
 * background work to hand over. Looking it up on every request cost an `Error` with its
 * stack on Deno, where Hono's `executionCtx` getter throws for lack of one; when it
 * throws, the token manager tracks the work itself.
 */
function executionWaitUntil(c: Context): (p: Promise<unknown>) => void {
  return (promise) => c.executionCtx.waitUntil(promise);
}

/** The part of the URL after `/aqc/{office}`: path and query, exactly as sent. */
function upstreamPath(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const officeEnd = url.indexOf("/", pathStart + ROUTE_PREFIX.length);
  const queryStart = url.indexOf("?", pathStart);
  if (officeEnd === -1 || (queryStart !== -1 && queryStart < officeEnd)) return "/";
  return url.slice(officeEnd);
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
  const aqcFetch = createAqcFetch({
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
    office: (c) => officeFor(c),
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

  /** The request's identifying fields of a log line. */
  const who = (
    c: Context<GatewayEnv>,
  ): Pick<GatewayLogEntry, "requestId" | "callerRequestId" | "keyId"> => {
    const callerId = callerRequestId(c.req.raw.headers);
    const key = c.get("gatewayKey");
    return {
      requestId: c.get("requestId"),
      ...(callerId === undefined ? {} : { callerRequestId: callerId }),
      ...(key === undefined ? {} : { keyId: key.id }),
    };
  };

  const fail = (c: Context<GatewayEnv>, error: unknown, officeId?: string): Response => {
    if (error instanceof AqcError) {
      const response = problemFromError(error);
      if (response.status >= 500) {
        log({
          level: "warn",
          message: error.message,
          code: error.code,
          ...who(c),
          ...(officeId ? { officeId } : {}),
        });
      }
      return response;
    }
    log({
      level: "error",
      message: error instanceof Error ? error.name : "Unknown error",
      code: "internal_error",
      ...who(c),
    });
    return problem("internal_error", "The gateway failed to handle the request");
  };

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
  const callerAuth = bearerAuth({
    verifyToken: async (token, c) => {
      const key = await verifier.verify(token);
      if (key !== undefined) (c as Context<GatewayEnv>).set("gatewayKey", key);
      return key !== undefined;
    },
    noAuthenticationHeader: { message: unauthorized },
    invalidAuthenticationHeader: { message: unauthorized },
    invalidToken: { message: unauthorized },
  });
  const limit = bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: () =>
      problem("payload_too_large", `Request body exceeds ${config.maxBodyBytes} bytes`),
  });
  const own = secureHeaders();

  /**
   * The proxy route's single middleware: caller auth, then the body limit when there is a
   * body. A caller whose key was verified before is recognised here, parsing `Authorization`
   * exactly as bearerAuth does (`Bearer` in any case, a space, the value trimmed; only values
   * that passed bearerAuth's syntax check are remembered), so a warm request skips two
   * middleware layers and bearerAuth's checks; anyone else goes through bearerAuth, its
   * hashing and its answers.
   */
  const callerGuard: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    const limited = async (): Promise<void> => {
      if (c.req.raw.body === null) return await next();
      const refused = await limit(c, next);
      if (refused instanceof Response) c.res = refused;
    };
    const header = c.req.raw.headers.get("authorization");
    const key = header !== null && header.length > 7 && header[6] === " " &&
        header.slice(0, 6).toLowerCase() === "bearer"
      ? verifier.known(header.slice(7).trimStart())
      : undefined;
    // bearerAuth is typed for the default Hono environment; it reads nothing of ours.
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

  /**
   * The proxy route's office, or the answer refusing it. Resolved once per request: the ops
   * guard and the route both need it, and normalising and checking it twice cost the warm
   * path for nothing.
   */
  const officeFor = (c: Context<GatewayEnv>): string | Response => {
    return c.get("office") ?? resolveOffice(c);
  };
  const resolveOffice = (c: Context<GatewayEnv>): string | Response => {
    const resolved = checkOffice(c);
    c.set("office", resolved);
    return resolved;
  };
  const checkOffice = (c: Context<GatewayEnv>): string | Response => {
    // RFC 9112 §3.2: a Host that is not a host answers 400, before its path is trusted.
    const host = c.req.raw.headers.get("host");
    if (host !== null && !VALID_HOST.test(host)) {
      return problem("path_invalid", "The Host header must be a host name and optional port");
    }
    let officeId: string;
    try {
      officeId = normalizeOfficeId(c.req.param("office"));
    } catch (error) {
      return fail(c, error);
    }
    if (!keyAllowsOffice(c.get("gatewayKey"), officeId, config.offices)) {
      return problem("office_forbidden", `This gateway key may not call office ${officeId}`);
    }
    return officeId;
  };

  if (stats !== undefined) {
    const sources = { inspect: () => tokens.inspect(), guard, stats, storeKind };
    app.get("/status", own, callerAuth, statusRoute(sources));
  }

  if (config.exposeTokens) {
    app.post("/token/:office", own, callerAuth, async (c) => {
      const officeId = officeFor(c);
      if (officeId instanceof Response) return officeId;
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
        return fail(c, error, officeId);
      }
    });
  }

  app.all(
    "/aqc/:office/*",
    callerGuard,
    guard.middleware,
    async (c) => {
      const officeId = officeFor(c);
      if (officeId instanceof Response) return officeId;
      const request = c.req.raw;
      const method = request.method;
      const path = upstreamPath(request.url);
      if (isSecurityPath(path)) {
        // Refused before any token is spent: the security API (the token endpoint among
        // it) only answers the gateway itself.
        return problem("path_invalid", "Paths under /v1/security/ are not served by the gateway");
      }
      // A caller that hangs up before AQC answers abandons an idempotent call (Deno's
      // request.signal aborts on disconnect; with the legacy abort behaviour it also aborts
      // once the answer was fully sent, when there is nothing left to cut).
      const signal = ABANDONABLE_METHODS.has(method) ? request.signal : undefined;
      // On `deno serve` the second handler argument (Hono's env) is the ServeHandlerInfo,
      // whose `completed` settles once the answer is sent: the signal is linked cheaply.
      const completed = (c.env as { completed?: unknown } | undefined)?.completed;
      const settled = signal !== undefined && completed instanceof Promise ? completed : undefined;
      let upstreamStarted = 0;
      let bearer = "";
      // Server-Timing, written here rather than by Hono's timing middleware, which cost a
      // middleware layer, a Map, an array and a header append on every request.
      let serverTiming = "";
      try {
        const response = await aqcFetch(officeId, path, {
          method,
          headers: forwardRequestHeaders(request.headers),
          body: method === "GET" || method === "HEAD" ? null : request.body,
          // A caller that leaves mid-answer cancels the streamed body, which cancels the
          // upstream fetch; the signal covers the time before AQC's headers arrive.
          ...(signal === undefined ? {} : { signal }),
          ...(settled === undefined ? {} : { settled }),
          waitUntil: executionWaitUntil(c),
          onBearer: (accessToken) => (bearer = accessToken),
          onToken: (timing) => {
            serverTiming += `${serverTiming === "" ? "" : ","}${
              timing.replay ? "token-replay" : "token"
            };dur=${timing.durationMs.toFixed(1)};desc="${timing.source}"`;
            upstreamStarted = performance.now();
            telemetry?.onToken(timing);
          },
        });
        const headers = forwardResponseHeaders(response.headers, bearer);
        headers.push([
          "server-timing",
          `${serverTiming},upstream;dur=${(performance.now() - upstreamStarted).toFixed(1)}`,
        ]);
        return new Response(response.body, {
          status: response.status,
          statusText: response.statusText,
          headers,
        });
      } catch (error) {
        // The caller is gone: nobody reads this answer, and it is not an error of ours.
        if (signal?.aborted) return new Response(null, { status: 499 });
        if (!(error instanceof AqcError)) throw error;
        const answer = fail(c, error, officeId);
        if (serverTiming !== "") answer.headers.set("server-timing", serverTiming);
        return answer;
      }
    },
  );

  app.notFound(() => problem("not_found", "No such route"));
  app.onError((error, c) => {
    // bearerAuth rejects by throwing its (problem+json) response.
    if (error instanceof HTTPException) return error.getResponse();
    // Body-limit overruns surface here first; the middleware then answers 413 itself.
    if (error instanceof Error && error.name === "BodyLimitError") {
      return problem("payload_too_large", `Request body exceeds ${config.maxBodyBytes} bytes`);
    }
    return fail(c, error);
  });
  return app;
}
