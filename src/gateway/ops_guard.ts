/**
 * The guard in front of the proxy route: an office held after an AQC 429 and a caller over
 * its rate limit are answered here with 429, without a token or an AQC call; afterwards it
 * notes AQC 429s, adds the rate-limit headers and counts the answer for the status page.
 *
 * @module
 */
import type { AqcConfig, GatewayKey } from "../config/load_config.ts";
import { parseRetryAfter } from "../token/retry_after.ts";
import { problem } from "./problem.ts";
import { type RateLimitDecision, RateLimiter, rateLimitHeaders } from "./rate_limit/limiter.ts";
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
  /** The Upstash client shared by the fleet; absent = per-isolate guards. */
  redis?: OpsRedisClient;
  /** Counts answers per office (the status page). */
  stats?: RequestStats;
  /** Observer of rejections and AQC 429s. */
  onEvent?: (event: GuardEvent) => void;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
}

/**
 * What {@linkcode OpsGuard.admit} decided: go on (with the rate-limit decision to report on
 * the answer, if any), or the 429 to answer instead.
 */
export type Admission =
  | { refused: Response; decision?: undefined }
  | { refused?: undefined; decision?: RateLimitDecision };

/** The guard and the state the status page reads. */
export interface OpsGuard {
  /** Whether the guard has anything to do; when not, `admit` and `settle` may be skipped. */
  active: boolean;
  /**
   * Before the AQC call of an authenticated caller for an allowed office: answers 429
   * while the office is held after an AQC 429 or the caller is over its limit. Synchronous
   * unless a shared hold is polled or a limit counted.
   */
  admit(key: GatewayKey, officeId: string, requestId: string): Admission | Promise<Admission>;
  /**
   * After any answer of the proxy route but the guard's own 429s: notes an AQC 429, adds
   * the rate-limit headers, counts the answer. Returns the answer to send (a copy when its
   * headers were immutable).
   */
  settle(
    officeId: string,
    admission: Admission,
    response: Response,
    waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  ): Response;
  /** The holds after AQC 429s, when enabled. */
  holds?: UpstreamHolds;
  /** The limiter, when any key has a limit. */
  limiter?: RateLimiter;
  /** The shared Redis, when configured and used (see `opsGuardUsesRedis`). */
  redis?: OpsRedis;
}

const GO: Admission = {};

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

/**
 * Builds the guard a configuration asks for. A key with a limit pays one `EVAL` per request
 * on Upstash; with shared holds (`AQC_UPSTREAM_429=shared`) an office's shared hold is read
 * at most once per second per isolate, by the first request after that second.
 *
 * @param config The configuration (keys, Upstash, `AQC_UPSTREAM_429`).
 * @param options Shared Redis client, stats, observer.
 * @returns The guard.
 */
export function createOpsGuard(config: AqcConfig, options: OpsGuardOptions = {}): OpsGuard {
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
  const refuse = (officeId: string, response: Response): Admission => {
    stats?.record(officeId, response.status);
    return { refused: response };
  };

  const held = (officeId: string, requestId: string): Admission | undefined => {
    const heldMs = holds === undefined ? 0 : holds.remainingMs(officeId);
    if (heldMs <= 0) return undefined;
    const retryAfterSeconds = Math.ceil(heldMs / 1000);
    emit({ type: "upstream_held", officeId, retryAfterSeconds });
    return refuse(
      officeId,
      problem(
        "upstream_rate_limited",
        `AQC is rate limiting office ${officeId}: retry in ${retryAfterSeconds} s`,
        { retryAfterSeconds, headers: { "x-request-id": requestId } },
      ),
    );
  };
  const limit = async (
    limiter: RateLimiter,
    key: GatewayKey,
    rateLimit: NonNullable<GatewayKey["rateLimit"]>,
    officeId: string,
    requestId: string,
  ): Promise<Admission> => {
    const decision = await limiter.take(key.id, officeId, rateLimit);
    if (decision.allowed) return { decision };
    emit({ type: "caller_rate_limited", keyId: key.id, officeId, counted: decision.counted });
    return refuse(
      officeId,
      problem(
        "caller_rate_limited",
        `This gateway key may send ${decision.limit} requests per ${decision.windowSeconds} s`,
        {
          retryAfterSeconds: decision.resetSeconds,
          headers: [...rateLimitHeaders(decision), ["x-request-id", requestId]],
        },
      ),
    );
  };
  const afterHolds = (
    key: GatewayKey,
    officeId: string,
    requestId: string,
  ): Admission | Promise<Admission> => {
    const refused = held(officeId, requestId);
    if (refused !== undefined) return refused;
    const rateLimit = key.rateLimit;
    if (rateLimit === undefined || limiter === undefined) return GO;
    return limit(limiter, key, rateLimit, officeId, requestId);
  };

  return {
    active: holds !== undefined || limiter !== undefined || stats !== undefined,
    admit(key, officeId, requestId) {
      // At most once per second per office: a warm isolate learns a hold another one saw.
      const poll = holds?.poll(officeId);
      if (poll === undefined) return afterHolds(key, officeId, requestId);
      return poll.then(() => afterHolds(key, officeId, requestId));
    },
    settle(officeId, admission, response, waitUntil) {
      if (response.status === 429 && holds !== undefined) {
        // Only AQC answers 429 past admission: the gateway's own 429s are answered there.
        const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), now());
        emit({ type: "upstream_429", officeId, retryAfterSeconds });
        const work = holds.record(officeId, retryAfterSeconds);
        try {
          waitUntil?.(work);
        } catch {
          // Outside a request: the promise runs to its end by itself.
        }
      }
      const decision = admission.decision;
      let answer = response;
      if (decision !== undefined) {
        try {
          answer.headers.set("ratelimit", "");
        } catch {
          // Immutable headers (a response passed through as fetched): copy them once.
          answer = new Response(response.body, response);
        }
        for (const [name, value] of rateLimitHeaders(decision)) answer.headers.set(name, value);
      }
      stats?.record(officeId, answer.status);
      return answer;
    },
    ...(holds === undefined ? {} : { holds }),
    ...(limiter === undefined ? {} : { limiter }),
    ...(redis === undefined ? {} : { redis }),
  };
}
