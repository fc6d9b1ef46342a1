/**
 * `otelTelemetry`: the gateway's traces and metrics through `@opentelemetry/api`.
 *
 * Spans: the gateway request (server, HTTP semantic conventions, continuing the caller's W3C
 * trace), the token lookup (`aqc.token.source` l1/l2/endpoint/peer), the token request (client,
 * with its attempts), the AQC call (client, HTTP semantic conventions, `traceparent` sent to
 * AQC) and store calls. Metrics: see {@linkcode METRICS}. Nothing recorded ever holds a token,
 * secret, gateway key, store id or query string.
 *
 * @module
 */
import {
  type Attributes,
  context,
  createContextKey,
  type Meter,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { GatewayKey } from "../config/load_config.ts";
import type { TokenTiming } from "../fetch/aqc_fetch.ts";
import type { GuardEvent } from "../gateway/ops_guard.ts";
import type { GatewayTelemetry, GuardState, TelemetryContext } from "../gateway/telemetry.ts";
import { normalizeOfficeId } from "../office.ts";
import { MemoryTokenStore } from "../store/memory_store.ts";
import type { TokenStore } from "../store/store.ts";
import { UpstashTokenStore } from "../store/upstash_store.ts";
import type { TokenManager } from "../token/manager.ts";
import type { TokenEvent } from "../token/types.ts";
import { createInstruments } from "./metrics.ts";
import { extractContext, injectContext } from "./propagation.ts";
import { tracedStore } from "./store.ts";

/** An OpenTelemetry `TracerProvider` (`@opentelemetry/api`'s interface, or an SDK's class). */
export interface TracerProviderLike {
  /** Returns a `Tracer`. */
  getTracer(name: string, version?: string): unknown;
}

/** An OpenTelemetry `MeterProvider` (`@opentelemetry/api`'s interface, or an SDK's class). */
export interface MeterProviderLike {
  /** Returns a `Meter`. */
  getMeter(name: string, version?: string): unknown;
}

/** Options of {@linkcode otelTelemetry}. */
export interface OtelTelemetryOptions {
  /** Default: the global provider (`trace.getTracerProvider()`, e.g. Deno's `OTEL_DENO`). */
  tracerProvider?: TracerProviderLike;
  /** Default: the global provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProviderLike;
}

const SCOPE = "aqc-edge";
const SCOPE_VERSION = "0.1.0";
const OFFICE = createContextKey("aqc-edge office");
/** How long after a peer's lease an L2 read counts as the `peer` source. */
const PEER_WINDOW_MS = 2_000;
const ROUTES = new Set(["/healthz", "/readyz", "/status"]);
/** Methods named as they are; any other is `_OTHER` (semantic conventions; bounded names). */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]);
/** Distinct office label values per metric stream; later offices are `_other`. */
export const MAX_OFFICE_LABELS = 256;

function methodOf(method: string): string {
  const upper = method.toUpperCase();
  return METHODS.has(upper) ? upper : "_OTHER";
}

function routeOf(path: string): string {
  if (path.startsWith("/aqc/")) return "/aqc/:office/*";
  if (path.startsWith("/token/")) return "/token/:office";
  return ROUTES.has(path) ? path : "unmatched";
}

function officeOf(path: string): string | undefined {
  if (!path.startsWith("/aqc/") && !path.startsWith("/token/")) return undefined;
  const segment = path.split("/")[2] ?? "";
  try {
    return normalizeOfficeId(decodeURIComponent(segment));
  } catch {
    return undefined; // not an office: never recorded (it is caller input)
  }
}

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "Error";
}

/**
 * The gateway's OpenTelemetry hooks. Pass them as `telemetry` to `createGateway` or
 * `bootstrap`; `main.ts` does when a provider is registered ({@linkcode otelRegistered}).
 *
 * @example
 * ```ts ignore
 * import { createGateway, loadConfig } from "@aqc-edge/aqc-edge/gateway";
 * import { otelTelemetry } from "@aqc-edge/aqc-edge/otel";
 *
 * const app = createGateway(loadConfig(Deno.env.toObject()), { telemetry: otelTelemetry() });
 * ```
 *
 * @param options Providers; default the global ones.
 * @returns The hooks.
 */
export function otelTelemetry(options: OtelTelemetryOptions = {}): GatewayTelemetry {
  // The providers are typed loosely in the options (so the docs need not re-export the whole
  // API); what they return is the API's Tracer and Meter.
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    SCOPE,
    SCOPE_VERSION,
  ) as Tracer;
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
    SCOPE,
    SCOPE_VERSION,
  ) as Meter;
  const instruments = createInstruments(meter);
  let tokens: TokenManager | undefined;
  let apiUrl: URL | undefined;
  const peerAt = new Map<string, number>();
  // A "*" key may name any valid office id: metric labels must stay bounded whatever is sent.
  const officeLabels = new Set<string>();
  const officeLabel = (officeId: string): string => {
    if (officeLabels.has(officeId)) return officeId;
    if (officeLabels.size >= MAX_OFFICE_LABELS) return "_other";
    officeLabels.add(officeId);
    return officeId;
  };

  const middleware = async (c: TelemetryContext, next: () => Promise<void>): Promise<void> => {
    const request = c.req.raw;
    const path = c.req.path;
    const route = routeOf(path);
    const officeId = officeOf(path);
    const parent = extractContext(request.headers);
    const method = methodOf(request.method);
    const attributes: Attributes = {
      "http.request.method": method,
      "http.route": route,
      "url.scheme": request.url.startsWith("https:") ? "https" : "http",
      "url.path": route === "unmatched" ? "unmatched" : path.slice(0, 256),
    };
    if (officeId !== undefined) attributes["aqc.office_id"] = officeId;
    const span = tracer.startSpan(`${method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes,
    }, parent);
    let active = trace.setSpan(parent, span);
    if (officeId !== undefined) active = active.setValue(OFFICE, officeId);
    const started = performance.now();
    try {
      await context.with(active, next);
    } finally {
      const status = c.res.status;
      span.setAttribute("http.response.status_code", status);
      const key = (c.var as { gatewayKey?: GatewayKey }).gatewayKey;
      if (key !== undefined) span.setAttribute("aqc.caller_id", key.id);
      if (status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute("error.type", String(status));
      }
      span.end();
      instruments.serverDuration.record((performance.now() - started) / 1000, {
        "http.request.method": method,
        "http.route": route,
        "http.response.status_code": status,
      });
    }
  };

  const wrapFetch = (transport: typeof fetch): typeof fetch => {
    return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const method = methodOf(init?.method ?? (input instanceof Request ? input.method : "GET"));
      const active = context.active();
      const officeId = active.getValue(OFFICE) as string | undefined;
      const attributes: Attributes = {
        "http.request.method": method,
        "server.address": url.hostname,
        "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
        // No query string: it is the caller's search, and the semantic conventions allow it.
        "url.full": `${url.origin}${url.pathname}`,
      };
      if (officeId !== undefined) attributes["aqc.office_id"] = officeId;
      const span = tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes }, active);
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
      injectContext(trace.setSpan(active, span), headers);
      const started = performance.now();
      const labels: Attributes = officeId === undefined
        ? {}
        : { "aqc.office_id": officeLabel(officeId) };
      try {
        const response = await transport(input, { ...init, headers });
        span.setAttribute("http.response.status_code", response.status);
        if (response.status >= 500) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.setAttribute("error.type", String(response.status));
        }
        labels["http.response.status_class"] = statusClass(response.status);
        return response;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute("error.type", errorName(error));
        labels["http.response.status_class"] = "error";
        throw error;
      } finally {
        span.end();
        instruments.upstreamDuration.record((performance.now() - started) / 1000, labels);
      }
    };
  };

  const onToken = (timing: TokenTiming): void => {
    const active = context.active();
    const officeId = active.getValue(OFFICE) as string | undefined;
    let source: string = timing.source;
    if (source === "l2" && officeId !== undefined) {
      const at = peerAt.get(officeId);
      if (at !== undefined && Date.now() - at < PEER_WINDOW_MS) source = "peer";
      peerAt.delete(officeId);
    }
    const attributes: Attributes = {
      "aqc.token.source": source,
      "aqc.token.replay": timing.replay,
    };
    if (officeId !== undefined) attributes["aqc.office_id"] = officeId;
    tracer.startSpan("aqc.token.get", {
      kind: SpanKind.INTERNAL,
      attributes,
      startTime: Date.now() - timing.durationMs,
    }, active).end();
    instruments.tokenLookups.add(1, { "aqc.token.source": source });
  };

  const onTokenEvent = (event: TokenEvent): void => {
    const office = { "aqc.office_id": event.officeId };
    const label = { "aqc.office_id": officeLabel(event.officeId) };
    switch (event.type) {
      case "token_fetched": {
        instruments.tokenRequests.add(1, { ...label, "aqc.outcome": "success" });
        const attributes: Attributes = {
          ...office,
          "http.request.method": "POST",
          "aqc.token.attempts": event.attempts,
          "aqc.token.retries": Math.max(0, event.attempts - 1),
        };
        if (apiUrl !== undefined) attributes["server.address"] = apiUrl.hostname;
        tracer.startSpan("aqc.token.request", {
          kind: SpanKind.CLIENT,
          attributes,
          startTime: Date.now() - event.durationMs,
        }, context.active()).end();
        break;
      }
      case "token_fetch_failed": {
        instruments.tokenRequests.add(1, { ...label, "aqc.outcome": event.code });
        const attributes: Attributes = {
          ...office,
          "aqc.error_code": event.code,
          "aqc.token.attempt": event.attempt,
          "aqc.token.will_retry": event.willRetry,
        };
        if (event.status !== undefined) attributes["http.response.status_code"] = event.status;
        const span = tracer.startSpan("aqc.token.request", {
          kind: SpanKind.CLIENT,
          attributes,
        }, context.active());
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute("error.type", event.code);
        span.end();
        break;
      }
      case "refresh_started": {
        const state = tokens?.inspect().find((s) => s.officeId === event.officeId);
        if (state?.expiresAt !== undefined) {
          instruments.timeToExpiry.record(Math.max(0, (state.expiresAt - Date.now()) / 1000), {
            "aqc.refresh.background": event.background,
          });
        }
        break;
      }
      case "lease_wait":
        if (event.outcome === "token") {
          if (peerAt.size >= 1024) peerAt.clear();
          peerAt.set(event.officeId, Date.now());
        }
        break;
      case "store_error":
        // The operation only: the message may come from a client library.
        instruments.storeErrors.add(1, { "db.operation.name": event.operation });
        break;
    }
  };

  const onGuardEvent = (event: GuardEvent): void => {
    switch (event.type) {
      case "caller_rate_limited":
        instruments.rateLimited.add(1, {
          "aqc.limit.reason": "caller",
          "aqc.caller_id": event.keyId,
          "aqc.limit.counted": event.counted,
        });
        break;
      case "upstream_held":
        instruments.rateLimited.add(1, {
          "aqc.limit.reason": "upstream_hold",
          "aqc.office_id": officeLabel(event.officeId),
        });
        break;
      case "upstream_429":
        instruments.upstream429.add(1, { "aqc.office_id": officeLabel(event.officeId) });
        break;
    }
  };

  const bind = (manager: TokenManager, guard: GuardState): void => {
    tokens = manager;
    apiUrl = new URL(manager.apiUrl);
    instruments.observeCircuit(() => {
      const now = Date.now();
      return manager.inspect().map((state) => ({
        officeId: state.officeId,
        open: state.failure !== undefined && state.failure.until > now,
        ...(state.failure === undefined ? {} : { code: state.failure.code }),
      }));
    }, () => guard.holds?.held() ?? new Map());
  };

  const wrapStore = (store: TokenStore): TokenStore => {
    const kind = store instanceof UpstashTokenStore
      ? "upstash"
      : store instanceof MemoryTokenStore
      ? "memory"
      : "custom";
    return tracedStore(store, tracer, kind);
  };

  const safe = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A): void => {
    try {
      fn(...args);
    } catch {
      // Telemetry never breaks a request.
    }
  };
  return {
    middleware,
    wrapFetch,
    wrapStore,
    onToken: safe(onToken),
    onTokenEvent: safe(onTokenEvent),
    onGuardEvent: safe(onGuardEvent),
    bind,
  };
}
