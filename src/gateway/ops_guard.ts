/**
 * The guard in front of the proxy route: an office held after an AQC 429 and a caller over
 * its rate limit are answered here with 429, without a token or an AQC call; afterwards it
 * notes AQC 429s, adds the rate-limit headers and counts the answer for the status page.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "@hono/hono";
import type { AqcConfig } from "../config/load_config.ts";
import { parseRetryAfter } from "../token/retry_after.ts";
import type { GatewayEnv } from "./create_gateway.ts";
import { problem } from "./problem.ts";
import { RateLimiter, rateLimitHeaders } from "./rate_limit/limiter.ts";
import { OpsRedis, type OpsRedisClient } from "./shared/ops_redis.ts";
import type { RequestStats } from "./status/stats.ts";
import { UpstreamHolds } from "./upstream_429/holds.ts";

/** What the guard reports, for metrics (OpenTelemetry) and tests. */
export type GuardEvent =
  | { type: "caller_rate_limited"; keyId: string; officeId: string; counted: "shared" | "local" }
  | { type: "upstream_held"; officeId: string; retryAfterSeconds: number }
  | { type: "upstream_429"; officeId: string; retryAfterSeconds: number | undefined };

/** Options of {@linkcode createOpsGuard}. */
export interface OpsGuardOptions {
  /**
   * The request's office, canonical and allowed for its key, or the answer refusing it (the
   * route's own resolver, memoised per request, so the office is checked once).
   */
  office: (c: Context<GatewayEnv>) => string | Response;
  /** The Upstash client shared by the fleet; absent = per-isolate guards. */
  redis?: OpsRedisClient;
  /** Counts answers per office (the status page). */
  stats?: RequestStats;
  /** Observer of rejections and AQC 429s. */
  onEvent?: (event: GuardEvent) => void;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
}

/** The guard and the state the status page reads. */
export interface OpsGuard {
  /** The middleware for `ALL /aqc/:office/*`, after caller authentication. */
  middleware: MiddlewareHandler<GatewayEnv>;
  /** The holds after AQC 429s, when enabled. */
  holds?: UpstreamHolds;
  /** The limiter, when any key has a limit. */
  limiter?: RateLimiter;
  /** The shared Redis, when configured and used (see `opsGuardUsesRedis`). */
  redis?: OpsRedis;
}

/**
 * Whether a guard built from `config` uses the shared Redis: for caller rate limits, and for
 * AQC 429 holds when `AQC_UPSTREAM_429=shared`. The default configuration (no limit, local
 * holds) sends it nothing, so the gateway does not build a client for it.
 *
 * @param config The configuration.
 * @returns `true` when `OpsGuardOptions.redis` would be used.
 */
export function opsGuardUsesRedis(config: AqcConfig): boolean {
  return config.upstream429 === "shared" ||
    config.gatewayKeys.some((key) => key.rateLimit !== undefined);
}

/** Hands background work to the runtime (Workers' `waitUntil`); on Deno it simply runs. */
function background(c: Context, work: Promise<void>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (Deno, Bun): the promise runs to its end by itself.
  }
}

/**
 * Builds the guard a configuration asks for. A key with a limit pays one `EVAL` per request
 * on Upstash; with shared holds (`AQC_UPSTREAM_429=shared`) an office's shared hold is read
 * at most once per second per isolate, by the first request after that second.
 *
 * @param config The configuration (keys, Upstash, `AQC_UPSTREAM_429`).
 * @param options Shared Redis client, stats, observer.
 * @returns The guard.
 */
export function createOpsGuard(config: AqcConfig, options: OpsGuardOptions): OpsGuard {
  const now = options.now ?? Date.now;
  const scope = `${config.credentials.apiUrl}\n${config.credentials.clientId}`;
  const redis = options.redis === undefined || !opsGuardUsesRedis(config)
    ? undefined
    : new OpsRedis(options.redis, { timeoutMs: config.storeTimeoutMs, now });
  // `local` by default even with Upstash: a shared hold is read once per second per office
  // per isolate whatever the traffic, which would end "a warm call costs 0 Redis commands"
  // and, on Upstash's per-command pricing, cost more than the AQC calls it saves.
  const mode = config.upstream429 ?? "local";
  const holds = mode === "pass" ? undefined : new UpstreamHolds({
    scope,
    now,
    ...(mode === "shared" && redis !== undefined ? { redis } : {}),
  });
  const limited = config.gatewayKeys.some((key) => key.rateLimit !== undefined);
  const limiter = limited
    ? new RateLimiter({ scope, now, ...(redis === undefined ? {} : { redis }) })
    : undefined;
  const { stats, onEvent } = options;
  const emit = (event: GuardEvent): void => {
    try {
      onEvent?.(event);
    } catch {
      // An observer never breaks a request.
    }
  };

  const middleware: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    if (holds === undefined && limiter === undefined && stats === undefined) return await next();
    const officeId = options.office(c);
    // A refused office (invalid, forbidden, bad Host) is answered by the route.
    if (typeof officeId !== "string") return await next();
    const key = c.get("gatewayKey");

    const answer = (response: Response): Response => {
      stats?.record(officeId, response.status);
      return response;
    };
    if (holds !== undefined) {
      // At most once per second per office: a warm isolate learns a hold another one saw.
      const poll = holds.poll(officeId);
      if (poll !== undefined) await poll;
      const heldMs = holds.remainingMs(officeId);
      if (heldMs > 0) {
        const retryAfterSeconds = Math.ceil(heldMs / 1000);
        emit({ type: "upstream_held", officeId, retryAfterSeconds });
        return answer(problem(
          "upstream_rate_limited",
          `AQC is rate limiting office ${officeId}: retry in ${retryAfterSeconds} s`,
          { retryAfterSeconds, headers: { "x-request-id": c.get("requestId") } },
        ));
      }
    }
    const limit = key.rateLimit;
    const decision = limit === undefined || limiter === undefined
      ? undefined
      : await limiter.take(key.id, officeId, limit);
    if (decision !== undefined && !decision.allowed) {
      emit({ type: "caller_rate_limited", keyId: key.id, officeId, counted: decision.counted });
      return answer(problem(
        "caller_rate_limited",
        `This gateway key may send ${decision.limit} requests per ${decision.windowSeconds} s`,
        {
          retryAfterSeconds: decision.resetSeconds,
          headers: [...rateLimitHeaders(decision), ["x-request-id", c.get("requestId")]],
        },
      ));
    }

    await next();
    const response = c.res;
    if (response.status === 429 && holds !== undefined) {
      // Only AQC answers 429 past this point: the gateway's own 429s are answered above.
      const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), now());
      emit({ type: "upstream_429", officeId, retryAfterSeconds });
      background(c, holds.record(officeId, retryAfterSeconds));
    }
    if (decision !== undefined) {
      let headers = response.headers;
      try {
        headers.set("ratelimit", "");
      } catch {
        // Immutable headers (a response passed through as fetched): copy them once.
        c.res = new Response(response.body, response);
        headers = c.res.headers;
      }
      for (const [name, value] of rateLimitHeaders(decision)) headers.set(name, value);
    }
    stats?.record(officeId, response.status);
  };
  return {
    middleware,
    ...(holds === undefined ? {} : { holds }),
    ...(limiter === undefined ? {} : { limiter }),
    ...(redis === undefined ? {} : { redis }),
  };
}
