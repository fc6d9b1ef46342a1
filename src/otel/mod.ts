/**
 * aqc-edge OpenTelemetry: traces and metrics of the gateway through `@opentelemetry/api` (a
 * no-op until a provider is registered). Kept out of the root and `./gateway` graphs: only what
 * imports this entry loads `@opentelemetry/api`.
 *
 * - {@linkcode otelTelemetry}: the hooks to pass as `telemetry` to `createGateway`/`bootstrap`.
 * - {@linkcode otelRegistered}: whether a provider is registered (Deno's `OTEL_DENO=true`, an
 *   SDK), so an entry wires telemetry only then and pays nothing otherwise.
 *
 * @example
 * ```ts ignore
 * import { createGateway, loadConfig } from "@aqc-edge/aqc-edge/gateway";
 * import { otelRegistered, otelTelemetry } from "@aqc-edge/aqc-edge/otel";
 *
 * const config = loadConfig(Deno.env.toObject());
 * const app = createGateway(config, otelRegistered() ? { telemetry: otelTelemetry() } : {});
 * ```
 *
 * @module
 */
import { ProxyTracerProvider, trace } from "@opentelemetry/api";

export type { GatewayTelemetry, GuardState, TelemetryContext } from "../gateway/telemetry.ts";
export { METRICS } from "./metrics.ts";
export {
  type MeterProviderLike,
  otelTelemetry,
  type OtelTelemetryOptions,
  type TracerProviderLike,
} from "./telemetry.ts";

/**
 * Whether a global tracer provider is registered: Deno's own with `OTEL_DENO=true`, or one an
 * SDK registered. Without one every span is a no-op, and `main.ts` wires no telemetry at all.
 *
 * @returns `true` when spans would be recorded somewhere.
 */
export function otelRegistered(): boolean {
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider)) return true;
  // The no-op delegate is a singleton: a fresh proxy returns the same one.
  return provider.getDelegate() !== new ProxyTracerProvider().getDelegate();
}
