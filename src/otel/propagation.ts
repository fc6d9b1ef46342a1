/**
 * W3C Trace Context: `traceparent` / `tracestate` read from the caller and written to AQC. The
 * registered propagator is used when there is one (Deno's `OTEL_DENO`, an SDK); without one this
 * W3C implementation, so a caller's trace is continued even with a bare tracer provider.
 *
 * @module
 */
import {
  type Context,
  createTraceState,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
  TraceFlags,
} from "@opentelemetry/api";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE = "0".repeat(32);
const INVALID_SPAN = "0".repeat(16);

const headersGetter = {
  keys: (carrier: Headers): string[] => [...carrier.keys()],
  get: (carrier: Headers, key: string): string | undefined => carrier.get(key) ?? undefined,
};
const headersSetter = {
  set: (carrier: Headers, key: string, value: string): void => carrier.set(key, value),
};

/**
 * The parent context a caller's headers carry (ROOT when none or invalid).
 *
 * @param headers The incoming request's headers.
 * @returns The context to start the server span in.
 */
export function extractContext(headers: Headers): Context {
  if (propagation.fields().length > 0) {
    return propagation.extract(ROOT_CONTEXT, headers, headersGetter);
  }
  const match = headers.get("traceparent")?.trim().toLowerCase().match(TRACEPARENT);
  if (!match || match[1] === INVALID_TRACE || match[2] === INVALID_SPAN) return ROOT_CONTEXT;
  const parent: SpanContext = {
    traceId: match[1],
    spanId: match[2],
    traceFlags: Number.parseInt(match[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  const state = headers.get("tracestate");
  if (state !== null && state.length <= 512) parent.traceState = createTraceState(state);
  return trace.setSpanContext(ROOT_CONTEXT, parent);
}

/**
 * Writes the context's span into outgoing headers (replacing the caller's `traceparent`, which
 * the gateway forwards as an end-to-end header).
 *
 * @param context The context of the AQC call's client span.
 * @param headers The outgoing headers, changed in place.
 */
export function injectContext(context: Context, headers: Headers): void {
  if (propagation.fields().length > 0) {
    propagation.inject(context, headers, headersSetter);
    return;
  }
  const span = trace.getSpanContext(context);
  if (span === undefined || span.traceId === INVALID_TRACE) {
    headers.delete("traceparent");
    headers.delete("tracestate");
    return;
  }
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, "0");
  headers.set("traceparent", `00-${span.traceId}-${span.spanId}-${flags}`);
  const state = span.traceState?.serialize();
  if (state) headers.set("tracestate", state);
  else headers.delete("tracestate");
}
