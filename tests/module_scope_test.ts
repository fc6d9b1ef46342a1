/**
 * `loadConfig`, `createTokenManager` and `createGateway` at Worker module scope, in the real
 * workerd (`wrangler dev`): workerd throws "Disallowed operation called within global scope" for
 * random values, timers or I/O outside a request, so the fixture only loads if the factories
 * defer all of that to the first request. Then it serves tokens through the gateway, sharing
 * them through a local Upstash (redis-server + REST bridge), with the AQC simulator.
 *
 * Run: `deno test --allow-net=127.0.0.1,localhost --allow-run --allow-env --allow-read
 * --allow-write=/tmp tests/module_scope_test.ts` (wrangler runs as a subprocess).
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey, generateTokenKey } from "../src/gateway/mod.ts";
import { startUpstash } from "./helpers/redis.ts";
import { startWrangler } from "./helpers/workerd.ts";

const FIXTURE = "tests/fixtures/workerd/module_scope/wrangler.toml";
const SEARCH =
  "/aqc/NCE1A0955/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

Deno.test("workerd: createGateway and createTokenManager at module scope serve tokens", async (t) => {
  await using served = await serveSimulator();
  await using upstash = await startUpstash();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  await using session = await startWrangler({
    configs: [FIXTURE],
    // No skew and no jitter, so a short-lived token is due for refresh at half its life.
    vars: {
      AQC_API_URL: served.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_EXPIRY_SKEW_S: "0",
      AQC_REFRESH_JITTER_S: "0",
    },
    secrets: {
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([entry]),
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      AQC_TOKEN_KEY: generateTokenKey(),
    },
  });
  const call = (path: string): Promise<Response> =>
    fetch(`${session.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  await t.step("the module loaded: healthz and readyz (Upstash reachable)", async () => {
    const health = await call("/healthz");
    assert.equal(health.status, 200, await health.clone().text());
    await health.body?.cancel();
    const ready = await call("/readyz");
    const body = await ready.json();
    assert.equal(ready.status, 200, JSON.stringify(body));
    assert.equal(body.store, "upstash");
  });

  await t.step("a proxied call gets a token from the endpoint, the next from L1", async () => {
    const first = await call(SEARCH);
    assert.equal(first.status, 200, await first.clone().text());
    assert.match(first.headers.get("server-timing") ?? "", /desc="endpoint"/);
    assert.ok((await first.json()).data.length > 0);
    const second = await call(SEARCH);
    assert.equal(second.status, 200);
    assert.match(second.headers.get("server-timing") ?? "", /desc="l1"/);
    await second.body?.cancel();
    assert.equal(served.simulator.counters.tokenRequests, 1);
    assert.equal(served.simulator.counters.apiRequests, 2);
  });

  await t.step("a 401 about the token is replayed once with a fresh token", async () => {
    served.simulator.configure({ apiFailure: { mode: "invalid_token", remaining: 1 } });
    const replayed = await call(SEARCH);
    assert.equal(replayed.status, 200, await replayed.clone().text());
    assert.match(replayed.headers.get("server-timing") ?? "", /token-replay/);
    await replayed.body?.cancel();
    assert.equal(served.simulator.counters.tokenRequests, 2);
  });

  await t.step(
    "a token due for refresh is served at once, refreshed under ctx.waitUntil",
    async () => {
      // The refresh window is capped at half the lifetime: a 6 s token is due after 3 s and
      // usable until 6 s (no skew).
      served.simulator.configure({ tokenLifetimeSeconds: 6 });
      const search = SEARCH.replace("NCE1A0955", "DELAI08AA");
      const first = await call(search);
      assert.equal(first.status, 200, await first.clone().text());
      await first.body?.cancel();
      const byOffice = () => served.simulator.counters.tokenRequestsByOffice["DELAI08AA"] ?? 0;
      assert.equal(byOffice(), 1);
      await new Promise((resolve) => setTimeout(resolve, 3_300));
      const due = await call(search);
      assert.equal(due.status, 200);
      // Served from the isolate's cache, not after a token request...
      assert.match(due.headers.get("server-timing") ?? "", /token;[^,]*desc="l1"/);
      await due.body?.cancel();
      // ...while the refresh, handed to waitUntil, runs after the answer.
      for (let i = 0; i < 100 && byOffice() < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(byOffice(), 2);
      served.simulator.configure({ tokenLifetimeSeconds: null });
    },
  );

  await t.step("workerd reported no disallowed operation and no secret", () => {
    const output = session.output();
    assert.ok(!/Disallowed operation/i.test(output), output.slice(-2000));
    assert.ok(!output.includes(DEFAULT_CLIENT_SECRET));
  });
});
