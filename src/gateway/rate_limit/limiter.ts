/**
 * Per-caller rate limits: a fixed window per gateway key (and office, with `perOffice`),
 * counted fleet-wide in Upstash by one `EVAL` when configured, else in this isolate. A Redis
 * that fails or is slow falls back to the isolate's own count: never a failed request.
 *
 * @module
 */
import type { RateLimit } from "../../config/key_options.ts";
import { opaqueNames, type OpsRedis, script } from "../shared/ops_redis.ts";

/** The verdict on one request. */
export interface RateLimitDecision {
  /** Whether the request may go on. */
  allowed: boolean;
  /** The limit (requests per window). */
  limit: number;
  /** Requests left in the window (0 when refused). */
  remaining: number;
  /** Seconds until the window resets (at least 1). */
  resetSeconds: number;
  /** The window in seconds. */
  windowSeconds: number;
  /** Where it was counted: `shared` (Upstash) or `local` (this isolate). */
  counted: "shared" | "local";
}

/** Most windows counted per isolate; each is a key × office pair. */
export const MAX_LOCAL_WINDOWS = 10_000;

// The window starts at the first request and is kept by Redis' own expiry, so isolates'
// clocks never have to agree. Returns { count, ms left }.
const TAKE = script(`local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
local left = redis.call("PTTL", KEYS[1])
if left < 0 then
  redis.call("PEXPIRE", KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return { n, left }`);

function parseTake(reply: unknown): { count: number; leftMs: number } | undefined {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const [count, leftMs] = reply.map((v) => typeof v === "string" ? Number(v) : v);
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1) return undefined;
  if (typeof leftMs !== "number" || !Number.isFinite(leftMs) || leftMs < 0) return undefined;
  return { count, leftMs };
}

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** The shared Redis; absent = per isolate. */
  redis?: OpsRedis;
  /** Scope of the shared keys: the AQC application. */
  scope: string;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
}

/** Counts requests per caller (and office) and decides. */
export class RateLimiter {
  readonly #redis: OpsRedis | undefined;
  readonly #now: () => number;
  readonly #local = new Map<string, { count: number; resetAt: number }>();
  readonly #names: (key: string) => Promise<string>;
  #sharedCalls = 0;
  #fallbacks = 0;

  /**
   * Creates a limiter.
   *
   * @param options Shared Redis, scope, clock.
   */
  constructor(options: RateLimiterOptions) {
    this.#redis = options.redis;
    this.#names = opaqueNames(options.scope, "aqc:v2:rl:", MAX_LOCAL_WINDOWS);
    this.#now = options.now ?? Date.now;
  }

  /** Redis calls made, and decisions taken locally because Redis failed. */
  get counts(): { sharedCalls: number; fallbacks: number } {
    return { sharedCalls: this.#sharedCalls, fallbacks: this.#fallbacks };
  }

  /**
   * Counts one request of `keyId` (for `officeId` when the limit is per office) and decides.
   *
   * @param keyId The gateway key's id.
   * @param officeId The canonical office.
   * @param limit The key's limit.
   * @returns The decision.
   */
  async take(keyId: string, officeId: string, limit: RateLimit): Promise<RateLimitDecision> {
    const bucket = limit.perOffice ? `${keyId}\n${officeId}` : keyId;
    const windowMs = limit.windowSeconds * 1000;
    // The local count always runs: it is the answer whenever Redis has none.
    const local = this.#takeLocal(bucket, windowMs);
    let count = local.count;
    let leftMs = local.resetAt - this.#now();
    let counted: "shared" | "local" = "local";
    if (this.#redis !== undefined) {
      this.#sharedCalls++;
      const name = await this.#name(bucket, limit);
      const shared = await this.#redis.run(TAKE, [name], [String(windowMs)], parseTake);
      if (shared.ok) {
        ({ count, leftMs } = shared.value);
        counted = "shared";
      } else {
        this.#fallbacks++;
      }
    }
    const allowed = count <= limit.requests;
    return {
      allowed,
      limit: limit.requests,
      remaining: Math.max(0, limit.requests - count),
      resetSeconds: Math.max(1, Math.ceil(leftMs / 1000)),
      windowSeconds: limit.windowSeconds,
      counted,
    };
  }

  #takeLocal(bucket: string, windowMs: number): { count: number; resetAt: number } {
    const now = this.#now();
    let window = this.#local.get(bucket);
    if (window === undefined || window.resetAt <= now) {
      if (window === undefined && this.#local.size >= MAX_LOCAL_WINDOWS) this.#sweep(now);
      window = { count: 0, resetAt: now + windowMs };
      this.#local.set(bucket, window);
    }
    window.count++;
    return window;
  }

  #sweep(now: number): void {
    for (const [bucket, window] of this.#local) {
      if (window.resetAt <= now) this.#local.delete(bucket);
    }
    // Still full: forget the oldest half (they restart at 0, a bounded leniency).
    if (this.#local.size >= MAX_LOCAL_WINDOWS) {
      let drop = this.#local.size / 2;
      for (const bucket of this.#local.keys()) {
        if (drop-- <= 0) break;
        this.#local.delete(bucket);
      }
    }
  }

  #name(bucket: string, limit: RateLimit): Promise<string> {
    // The window length is part of the name, so a changed limit starts a clean window.
    return this.#names(`${bucket}\n${limit.windowSeconds}`);
  }
}

/**
 * The IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers): the policy
 * (`q` requests per `w` seconds) and the state (`r` remaining, `t` seconds to reset).
 *
 * @param decision The decision.
 * @returns Header pairs to add.
 */
export function rateLimitHeaders(decision: RateLimitDecision): [string, string][] {
  return [
    ["ratelimit-policy", `"caller";q=${decision.limit};w=${decision.windowSeconds}`],
    ["ratelimit", `"caller";r=${decision.remaining};t=${decision.resetSeconds}`],
  ];
}
