/**
 * The gateway's telemetry hook: what an observer (the `./otel` entry, or your own) is given.
 * Nothing here imports OpenTelemetry, so the gateway pays for it only when one is passed.
 *
 * @module
 */
import type { TokenTiming } from "../fetch/aqc_fetch.ts";
import type { TokenStore } from "../store/store.ts";
import type { TokenManager } from "../token/manager.ts";
import type { TokenEvent } from "../token/types.ts";
import type { GuardEvent } from "./ops_guard.ts";
import type { CreateTokenManagerOptions } from "./token_manager.ts";

/** What telemetry may read of the gateway's guards (for gauges). */
export interface GuardState {
  /** The AQC 429 holds, when enabled. */
  holds?: {
    /** The offices held now, with ms left. */
    held(): Map<string, number>;
  };
}

/** The part of a request's (Hono) context telemetry reads. */
export interface TelemetryContext {
  /** The request and its path. */
  readonly req: { readonly raw: Request; readonly path: string };
  /** The answer, once `next()` resolved. */
  readonly res: Response;
  /** The request's variables (the gateway key, once authenticated). */
  readonly var: object;
}

/** Hooks the gateway calls when `telemetry` is given; each must not throw. */
export interface GatewayTelemetry {
  /** Runs around every request, first after the request id (server spans, propagation). */
  middleware(c: TelemetryContext, next: () => Promise<void>): Promise<void>;
  /** Wraps the transport of AQC calls (client spans, `traceparent`, durations). */
  wrapFetch(transport: typeof fetch): typeof fetch;
  /** Wraps the token store (store call spans). */
  wrapStore(store: TokenStore): TokenStore;
  /** A token obtained for a proxied request, in that request's context. */
  onToken(timing: TokenTiming): void;
  /** Every token event. */
  onTokenEvent(event: TokenEvent): void;
  /** Rate-limit rejections and AQC 429 holds. */
  onGuardEvent(event: GuardEvent): void;
  /** The manager and guard of the gateway, for gauges read on collection. */
  bind(tokens: TokenManager, guard: GuardState): void;
}

/**
 * Token-manager options with the telemetry's event observer and store wrapper added (the
 * caller's own `onEvent` still receives every event).
 *
 * @param options The gateway options.
 * @returns Options for `createTokenManager`.
 */
export function tokenOptionsWith<T extends CreateTokenManagerOptions>(
  options: T & { telemetry?: GatewayTelemetry },
): T {
  const telemetry = options.telemetry;
  if (telemetry === undefined) return options;
  const own = options.onEvent;
  return {
    ...options,
    onEvent: (event: TokenEvent) => {
      telemetry.onTokenEvent(event);
      own?.(event);
    },
    wrapStore: (store: TokenStore) => {
      const inner = options.wrapStore === undefined ? store : options.wrapStore(store);
      return telemetry.wrapStore(inner);
    },
  };
}
