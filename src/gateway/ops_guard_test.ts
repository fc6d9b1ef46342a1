import assert from "../../tests/helpers/assert.ts";
import { loadConfig } from "../config/load_config.ts";
import { createOpsGuard, opsGuardUsesRedis } from "./ops_guard.ts";
import type { OpsRedisClient } from "./shared/ops_redis.ts";

const HASH = "ab".repeat(32);

function config(key: Record<string, unknown>, extra: Record<string, string> = {}) {
  return loadConfig({
    AQC_API_URL: "https://aqc.example",
    AQC_CLIENT_ID: "id",
    AQC_CLIENT_SECRET: "secret",
    AQC_GATEWAY_KEYS: JSON.stringify([{ id: "web", sha256: HASH, offices: ["*"], ...key }]),
    ...extra,
  });
}

Deno.test("opsGuardUsesRedis: only rate limits and shared 429 holds send Redis commands", () => {
  const limited = { rateLimit: { requests: 5, windowSeconds: 60 } };
  assert.equal(opsGuardUsesRedis(config({})), false);
  assert.equal(opsGuardUsesRedis(config({}, { AQC_UPSTREAM_429: "local" })), false);
  assert.equal(opsGuardUsesRedis(config({}, { AQC_UPSTREAM_429: "pass" })), false);
  assert.equal(opsGuardUsesRedis(config({}, { AQC_UPSTREAM_429: "shared" })), true);
  assert.equal(opsGuardUsesRedis(config(limited)), true);

  // The guard keeps a given client only when it uses it (the status page reports it then).
  const redis: OpsRedisClient = { eval: () => Promise.reject(new Error("not called")) };
  assert.equal(createOpsGuard(config({}), { redis }).redis, undefined);
  assert.notEqual(createOpsGuard(config(limited), { redis }).redis, undefined);
});
