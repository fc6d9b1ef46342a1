/**
 * `otelProviderMayBeRegistered`: whether `@opentelemetry/api` 1.x holds a global tracer
 * provider, read from the API's global slot without loading the API. The Worker entry checks
 * this first and loads `./mod.ts` (and `@opentelemetry/api`) only when it is true: the API's
 * top-level setup cost ~3 ms of every Worker cold start in workerd, in a bundle where nothing
 * registers a provider.
 *
 * @module
 */

/** The key of the API's globals in `globalThis`: `Symbol.for("opentelemetry.js.api.<major>")`. */
const OTEL_API_GLOBAL = Symbol.for("opentelemetry.js.api.1");

/**
 * A necessary condition of `otelRegistered()`: the API finds a registered tracer provider
 * only in this slot. `true` does not guarantee one (an incompatible version, a disabled
 * provider): callers then ask `otelRegistered()` itself.
 *
 * @returns `false` when no tracer provider can be registered.
 */
export function otelProviderMayBeRegistered(): boolean {
  const api = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_API_GLOBAL];
  return api?.trace !== undefined;
}
