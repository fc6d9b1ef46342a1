/**
 * The real OpenTelemetry SDK for tests: an in-memory span exporter, an in-memory metric
 * exporter, and an AsyncLocalStorage context manager (what Deno's `OTEL_DENO` and
 * `@opentelemetry/context-async-hooks` provide), so spans nest across awaits.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type Context, context, type ContextManager, ROOT_CONTEXT } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";

class AlsContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== "function") return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, fn, undefined, ...args)) as unknown as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

/** An SDK pipeline whose output a test reads. */
export interface OtelSdk {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  /** The finished spans so far. */
  spans(): ReadableSpan[];
  /** Collects and returns every metric so far (cumulative). */
  metrics(): Promise<ResourceMetrics[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts an SDK (and registers the context manager globally). */
export function startOtelSdk(): OtelSdk {
  context.setGlobalContextManager(new AlsContextManager());
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spanExporter)],
  });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: () => spanExporter.getFinishedSpans(),
    metrics: async () => {
      await reader.forceFlush();
      return metricExporter.getMetrics();
    },
    async [Symbol.asyncDispose]() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      context.disable();
    },
  };
}
