/**
 * The Upstash client of the gateway's guards: the one given, or one built from `UPSTASH_*`
 * (the gateway's fetch-only client, `upstash_rest.ts`).
 *
 * @module
 */
import type { AqcConfig } from "../../config/load_config.ts";
import { createUpstashRest } from "../../store/upstash_rest.ts";
import type { OpsRedisClient } from "./ops_redis.ts";

/**
 * The client the guards share, or `undefined` without Upstash (per-isolate guards).
 *
 * @param config The configuration.
 * @param given A client passed to the gateway (e.g. Workers' own).
 * @returns The client.
 */
export function opsRedisFor(
  config: AqcConfig,
  given: OpsRedisClient | undefined,
): OpsRedisClient | undefined {
  if (given !== undefined) return given;
  if (config.upstash === undefined) return undefined;
  return createUpstashRest({
    url: config.upstash.url,
    token: config.upstash.token,
    timeoutMs: config.storeTimeoutMs,
  });
}
