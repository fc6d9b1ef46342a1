/**
 * Per-caller rate limits: counted fleet-wide through the real Upstash bridge, answered with
 * 429 problem+json, `Retry-After` and the IETF `RateLimit-Policy` / `RateLimit` headers; a
 * Redis that is down falls back to the isolate's count; keys without a limit pay nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { serveSimulator } from "../dev/simulator/mod.ts";
import { ConfigError, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import { bodyOf, opsEnv, opsGateway } from "./helpers/ops_gateway.ts";
import { redisCommand, startUpstash } from "./helpers/redis.ts";

const OFFICE = "NCE1A0955";
const OTHER = "DELAI08AA";

/**
 * Commands redis-server has run so far (INFO commandstats), without this probe's own
 * (`HELLO`, `INFO`). A script's inner commands count too: an EVAL running INCR and PTTL is 3.
 */
async function commandsProcessed(port: number): Promise<number> {
  const reply = await redisCommand(port, ["INFO", "commandstats"]);
  const text = new TextDecoder().decode(reply as Uint8Array);
  let total = 0;
  for (const [, name, calls] of text.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
    if (name !== "hello" && name !== "info") total += Number(calls);
  }
  return total;
}

Deno.test("a caller's limit is shared by every isolate through Upstash; keys without one pay no command", async () => {
  await using upstash = await startUpstash();
  await using served = await serveSimulator();
  const limited = await generateGatewayKey("limited", ["*"]);
  const free = await generateGatewayKey("free", ["*"]);
  const env = opsEnv(
    served.url,
    [
      { ...limited.entry, rateLimit: { requests: 5, windowSeconds: 60 } },
      free.entry,
    ],
    upstash,
    { AQC_UPSTREAM_429: "local" },
  ); // shared holds cost a read per second (below)
  const a = opsGateway(env);
  const b = opsGateway(env);
  // Warm tokens (and the limited key's window starts here: request 1 of 5).
  const warm = await a.get(limited.key, OFFICE);
  assert.equal(warm.status, 200);
  assert.equal(warm.headers.get("ratelimit-policy"), '"caller";q=5;w=60');
  assert.equal(warm.headers.get("ratelimit"), '"caller";r=4;t=60');
  await warm.body?.cancel();
  await (await b.get(free.key, OFFICE)).body?.cancel();

  const statuses: number[] = [];
  const remaining: string[] = [];
  for (const gw of [b, a, b, a, b]) {
    const response = await gw.get(limited.key, OFFICE);
    statuses.push(response.status);
    remaining.push(response.headers.get("ratelimit")?.split(";")[1] ?? "");
    if (response.status === 429) {
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      const retryAfter = Number(response.headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
      assert.equal(response.headers.get("ratelimit-policy"), '"caller";q=5;w=60');
      assert.equal((await bodyOf(response))?.code, "caller_rate_limited");
    } else {
      await response.body?.cancel();
    }
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 429], "5 requests per 60 s across isolates");
  assert.deepEqual(remaining, ["r=3", "r=2", "r=1", "r=0", "r=0"]);
  // The limit covers every office of the key (perOffice is false).
  assert.equal((await a.get(limited.key, OTHER)).status, 429);

  // A key without a limit: no headers, never refused, and not one Redis command.
  const before = await commandsProcessed(upstash.redis.port);
  for (let i = 0; i < 20; i++) {
    const response = await (i % 2 === 0 ? a : b).get(free.key, OFFICE);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("ratelimit"), null);
    await response.body?.cancel();
  }
  const after = await commandsProcessed(upstash.redis.port);
  assert.equal(after - before, 0, "warm calls without a limit cost 0 Redis commands");
});

Deno.test("perOffice gives each office its own window; the cost of a limited request is one EVAL", async () => {
  await using upstash = await startUpstash();
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const free = await generateGatewayKey("free", ["*"]);
  const env = opsEnv(
    served.url,
    [
      { ...entry, rateLimit: { requests: 1000, windowSeconds: 60, perOffice: true } },
      free.entry,
    ],
    upstash,
    { AQC_UPSTREAM_429: "local" },
  );
  const gw = opsGateway(env);
  for (const office of [OFFICE, OTHER]) {
    const response = await gw.get(key, office);
    assert.equal(response.headers.get("ratelimit"), '"caller";r=999;t=60', office);
    await response.body?.cancel();
  }
  // Measured: Redis commands and time per request, with and without a limit (same warm path).
  const n = 200;
  const measure = async (k: string): Promise<{ commands: number; ms: number }> => {
    const before = await commandsProcessed(upstash.redis.port);
    const started = performance.now();
    for (let i = 0; i < n; i++) await (await gw.get(k, OFFICE)).body?.cancel();
    const ms = (performance.now() - started) / n;
    const commands = (await commandsProcessed(upstash.redis.port) - before) / n;
    return { commands, ms };
  };
  const withLimit = await measure(key);
  const without = await measure(free.key);
  console.log(
    `rate limit cost: one EVAL per limited request (${withLimit.commands} redis-server commands with its INCR and PTTL), ` +
      `${(withLimit.ms - without.ms).toFixed(2)} ms added (${withLimit.ms.toFixed(2)} vs ${
        without.ms.toFixed(2)
      } ms per request, local bridge)`,
  );
  // One EVAL, which runs INCR, PTTL (and PEXPIRE once per window) inside redis-server.
  assert.equal(Math.round(withLimit.commands), 1 + 2);
  assert.equal(without.commands, 0);

  // With shared AQC 429 holds (the default with Upstash), each office's hold is also read, at
  // most once per second per isolate: an EVAL running one PTTL.
  const shared = opsGateway({ ...env, AQC_UPSTREAM_429: "shared" });
  const before = await commandsProcessed(upstash.redis.port);
  const started = performance.now();
  for (let i = 0; i < n; i++) await (await shared.get(free.key, OFFICE)).body?.cancel();
  const seconds = (performance.now() - started) / 1000;
  const commands = await commandsProcessed(upstash.redis.port) - before;
  // The first request is cold (one token read: MGET); then ≤ 2 commands per started second.
  assert.ok(commands <= 1 + 2 * (Math.ceil(seconds) + 1), `${commands} in ${seconds} s`);
  console.log(
    `shared holds: ${commands} Redis commands for ${n} requests in ${seconds.toFixed(2)} s`,
  );
});

Deno.test("Redis down or hung: the isolate's own limiter decides, requests never fail", async () => {
  await using upstash = await startUpstash();
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const env = opsEnv(
    served.url,
    [{ ...entry, rateLimit: { requests: 3, windowSeconds: 60 } }],
    upstash,
    {
      AQC_STORE_TIMEOUT_MS: "200",
    },
  );
  const gw = opsGateway(env);
  await (await gw.get(key, OFFICE)).body?.cancel(); // token in L1, shared count 1
  await upstash.redis.pause();
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await gw.get(key, OFFICE);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    // The local count (which saw every request) now decides: 3 per window.
    assert.deepEqual(statuses, [200, 200, 429, 429]);
  } finally {
    await upstash.redis.resume();
  }
});

Deno.test("loadConfig: rateLimit and admin are validated, each problem named", () => {
  const base = {
    AQC_API_URL: "https://test.travel.api.amadeus.com",
    AQC_CLIENT_ID: "id",
    AQC_CLIENT_SECRET: "secret",
  };
  const key = { id: "web", sha256: "0".repeat(64), offices: ["*"] };
  const good = loadConfig({
    ...base,
    AQC_GATEWAY_KEYS: JSON.stringify([
      { ...key, rateLimit: { requests: 100, windowSeconds: 60, perOffice: true }, admin: true },
    ]),
  });
  assert.deepEqual(good.gatewayKeys[0].rateLimit, {
    requests: 100,
    windowSeconds: 60,
    perOffice: true,
  });
  assert.equal(good.gatewayKeys[0].admin, true);
  const bad = [
    [{ requests: 0, windowSeconds: 60 }, "rateLimit.requests must be a whole number"],
    [{ requests: 1.5, windowSeconds: 60 }, "rateLimit.requests must be a whole number"],
    [{ requests: 10, windowSeconds: 0 }, "rateLimit.windowSeconds must be a whole number"],
    [{ requests: 10 }, "rateLimit.windowSeconds must be a whole number"],
    [{ requests: 10, windowSeconds: 9e9 }, "rateLimit.windowSeconds must be a whole number"],
    [{ requests: 10, windowSeconds: 60, perOffice: "yes" }, "rateLimit.perOffice must be"],
    [{ requests: 10, windowSeconds: 60, burst: 5 }, 'rateLimit has an unknown field "burst"'],
    [[100, 60], "rateLimit must be an object"],
    ["100/min", "rateLimit must be an object"],
  ] as const;
  for (const [rateLimit, message] of bad) {
    try {
      loadConfig({ ...base, AQC_GATEWAY_KEYS: JSON.stringify([{ ...key, rateLimit }]) });
      assert.fail(`accepted ${JSON.stringify(rateLimit)}`);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.issues[0].variable, "AQC_GATEWAY_KEYS");
      assert.ok(
        error.issues[0].message.startsWith(`AQC_GATEWAY_KEYS[0].${message}`),
        error.issues[0].message,
      );
    }
  }
  assert.throws(
    () => loadConfig({ ...base, AQC_GATEWAY_KEYS: JSON.stringify([{ ...key, admin: "yes" }]) }),
    /AQC_GATEWAY_KEYS\[0\]\.admin must be true or false/,
  );
  assert.throws(
    () =>
      loadConfig({
        ...base,
        AQC_GATEWAY_KEYS: JSON.stringify([key]),
        AQC_UPSTREAM_429: "sometimes",
      }),
    /AQC_UPSTREAM_429 must be shared, local or pass/,
  );
});
