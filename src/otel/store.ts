/**
 * Store calls as client spans: one per `TokenStore` method, named by the operation. The store id
 * (an opaque hash), tokens and lease owners are never recorded.
 *
 * @module
 */
import { context, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { TokenStore } from "../store/store.ts";

const OPERATIONS = [
  "read",
  "writeToken",
  "deleteToken",
  "writeFailure",
  "acquireLease",
  "releaseLease",
] as const;

/**
 * Wraps a store so each call is a span `aqc.store <operation>`.
 *
 * @param store The store.
 * @param tracer The tracer.
 * @param kind `upstash`, `memory` or `custom` (the `aqc.store.kind` attribute).
 * @returns A store that does the same, traced.
 */
export function tracedStore(store: TokenStore, tracer: Tracer, kind: string): TokenStore {
  const traced = {} as Record<string, unknown>;
  for (const operation of OPERATIONS) {
    const method = store[operation] as (...args: unknown[]) => Promise<unknown>;
    traced[operation] = async (...args: unknown[]): Promise<unknown> => {
      const span = tracer.startSpan(`aqc.store ${operation}`, {
        kind: SpanKind.CLIENT,
        attributes: { "db.operation.name": operation, "aqc.store.kind": kind },
      }, context.active());
      try {
        return await method.apply(store, args);
      } catch (error) {
        // The error's name only: client messages may quote the command (sealed records).
        span.setAttribute("error.type", error instanceof Error ? error.name : "Error");
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    };
  }
  return traced as unknown as TokenStore;
}
