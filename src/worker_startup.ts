/**
 * What the Worker entry (`src/worker.ts`) keeps off its first answer: the OpenTelemetry wiring,
 * loaded only once a tracer provider may be registered, and the start-up warnings, written
 * after the answer. Both cost a cold start in workerd (`bench/PROFILES.md`, "Worker cold
 * start").
 *
 * @module
 */
import type { GatewayTelemetry } from "./gateway/telemetry.ts";
import { otelProviderMayBeRegistered } from "./otel/global.ts";
import type { ExecutionContext } from "./types/cloudflare_workers.d.ts";

/** `./otel/mod.ts`, once a tracer provider may be registered (see `loadTelemetry`). */
let otel: typeof import("./otel/mod.ts") | undefined;

/**
 * Whether `loadTelemetry` has something to load: a provider may be registered and the wiring
 * is not loaded yet.
 *
 * @returns `true` when the next gateway built should wait for `loadTelemetry`.
 */
export function telemetryPending(): boolean {
  return otel === undefined && otelProviderMayBeRegistered();
}

/**
 * Loads the OpenTelemetry wiring when a provider may be registered. Only then: evaluating
 * `@opentelemetry/api` cost every cold start in workerd, for a bundle in which nothing
 * registers a provider.
 */
export async function loadTelemetry(): Promise<void> {
  if (telemetryPending()) otel = await import("./otel/mod.ts");
}

/**
 * The gateway's telemetry: the provider registered by the Worker's own OpenTelemetry setup,
 * once `loadTelemetry` loaded the wiring; none (no cost) otherwise.
 *
 * @returns Options for `bootstrap`.
 */
export function telemetryOption(): { telemetry?: GatewayTelemetry } {
  return otel?.otelRegistered() ? { telemetry: otel.otelTelemetry() } : {};
}

/**
 * Writes start-up warnings after the current invocation answered or while it waits for I/O.
 * workerd's first console call in an isolate loads its log formatting (~4 ms, workerd
 * 2026-04-26), which delayed the first answer by as much; a zero timer runs once the answer is
 * on its way, or while the first proxied call waits for its token, and `waitUntil` keeps the
 * isolate until it has run.
 *
 * @param lines The warnings, without the `aqc-edge: ` prefix.
 * @param ctx The invocation's context.
 */
export function writeWarningsLater(lines: readonly string[], ctx: ExecutionContext): void {
  if (lines.length === 0) return;
  ctx.waitUntil(
    new Promise<void>((resolve) =>
      setTimeout(() => {
        for (const line of lines) console.warn(`aqc-edge: ${line}`);
        resolve();
      }, 0)
    ),
  );
}
