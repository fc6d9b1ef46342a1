/**
 * A fleet of isolates on an Upstash that behaves like production: reads served by a replica
 * that lags behind the primary, 40–80 ms per store call, and Upstash-only errors (quota). The
 * stores are built with `createUpstashTokenStore`, the configuration users get.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type TokenEvent, TokenManager, type TokenManagerOptions } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { UpstashTokenStore } from "../src/store/upstash_store.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";
import { type LocalUpstash, startUpstash } from "./helpers/redis.ts";
import { UPSTASH_CLIENTS, type UpstashClientKind } from "./helpers/upstash_clients.ts";

const OFFICES = ["NCE1A0955", "DELAI08AA", "PARAF08AA"];

interface Isolate {
  tokens: TokenManager;
  events: TokenEvent[];
}

function isolate(
  create: UpstashClientKind["create"],
  served: ServedSimulator,
  upstash: LocalUpstash,
  encryptionKey: string,
  options: Partial<TokenManagerOptions> = {},
): Isolate {
  const events: TokenEvent[] = [];
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store: new UpstashTokenStore({
      redis: create({ url: upstash.url, token: upstash.token, timeoutMs: 500 }),
      encryptionKey,
    }),
    storeTimeoutMs: 500,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { tokens, events };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * 8 isolates start 40 ms apart (so later ones arrive while, or just after, the first holds the
 * lease and writes), each with 10 concurrent calls per office.
 */
async function staggeredColdStart(
  create: UpstashClientKind["create"],
  syncTokens: boolean,
): Promise<Record<string, number>> {
  await using served = await serveSimulator({ knobs: { tokenLatencyMs: 150 } });
  await using upstash = await startUpstash({
    replica: true,
    habits: { replicaLagMs: 200, latencyMs: [40, 80], syncTokens },
  });
  const key = generateTokenKey();
  const isolates = Array.from({ length: 8 }, () => isolate(create, served, upstash, key));
  const calls = isolates.map(async ({ tokens }, i) => {
    await delay(i * 40);
    return await Promise.all(
      OFFICES.flatMap((office) => Array.from({ length: 10 }, () => tokens.getToken(office))),
    );
  });
  const results = (await Promise.all(calls)).flat();
  assert.equal(results.length, 8 * 3 * 10);
  assert.ok(upstash.bridge.stats().replicaReads > 0, "reads were served by the lagging replica");
  return { ...served.simulator.counters.tokenRequestsByOffice };
}

for (const { name, create } of UPSTASH_CLIENTS) {
  Deno.test(`200 ms replica lag, 40–80 ms latency, no sync tokens: 8 staggered cold isolates → 1 token request per office (${name})`, async () => {
    const byOffice = await staggeredColdStart(create, false);
    console.log(`replica lag 200 ms, no sync tokens: token requests ${JSON.stringify(byOffice)}`);
    for (const office of OFFICES) assert.equal(byOffice[office], 1, office);
  });

  Deno.test(`200 ms replica lag, 40–80 ms latency, sync tokens on: 8 staggered cold isolates → 1 token request per office (${name})`, async () => {
    const byOffice = await staggeredColdStart(create, true);
    console.log(`replica lag 200 ms, sync tokens: token requests ${JSON.stringify(byOffice)}`);
    for (const office of OFFICES) assert.equal(byOffice[office], 1, office);
  });

  Deno.test(`200 ms replica lag, no sync tokens: 8 warm isolates refreshing a 6 s token → 1 token request per office per refresh (${name})`, async () => {
    await using served = await serveSimulator({
      knobs: { tokenLifetimeSeconds: 6, tokenLatencyMs: 150 },
    });
    await using upstash = await startUpstash({
      replica: true,
      habits: { replicaLagMs: 200, latencyMs: [40, 80], syncTokens: false },
    });
    const key = generateTokenKey();
    const timing = { refreshAheadSeconds: 2, refreshJitterSeconds: 1, expirySkewSeconds: 0 };
    const isolates = Array.from({ length: 8 }, () => isolate(create, served, upstash, key, timing));
    const offices = OFFICES.slice(0, 2);
    // Warm-up, one isolate after the other (so the cold start is not what is measured).
    const started = Date.now();
    for (const { tokens } of isolates) for (const office of offices) await tokens.getToken(office);
    await delay(300);
    const warm = served.simulator.counters.tokenRequests;
    assert.equal(warm, offices.length, "warm-up: one per office");
    // Steady calls across the refresh window (3–4 s into the token's 6 s), stopping before the
    // refreshed token's own window (3 s after it, at the earliest).
    const until = started + 4_800;
    let calls = 0;
    await Promise.all(isolates.map(async ({ tokens }) => {
      while (Date.now() < until) {
        await Promise.all(offices.map((office) => tokens.getToken(office)));
        calls++;
        await delay(40);
      }
    }));
    await delay(500); // background refreshes settle
    const byOffice = served.simulator.counters.tokenRequestsByOffice;
    console.log(
      `refresh under 200 ms lag: ${calls} call rounds, token requests ${JSON.stringify(byOffice)}`,
    );
    for (const office of offices) {
      assert.equal(byOffice[office], 2, `${office}: warm-up + 1 refresh`);
    }
  });

  Deno.test(`Upstash quota exhausted: cached tokens keep serving; token requests bounded by isolates (${name})`, async () => {
    await using served = await serveSimulator();
    await using upstash = await startUpstash({ habits: { latencyMs: [5, 10] } });
    const key = generateTokenKey();
    const warm = Array.from({ length: 4 }, () => isolate(create, served, upstash, key));
    for (const { tokens } of warm) {
      for (const office of OFFICES) await tokens.getToken(office);
    }
    assert.equal(served.simulator.counters.tokenRequests, 3, "warm-up: one per office");

    upstash.bridge.setHabits({ fault: "quota" });
    // Warm isolates: every call answered from L1, no failure, no token request.
    const served1 = await Promise.allSettled(
      warm.flatMap(({ tokens }) =>
        OFFICES.flatMap((office) => Array.from({ length: 50 }, () => tokens.getToken(office)))
      ),
    );
    assert.ok(served1.every((r) => r.status === "fulfilled"), "no failed caller request");
    assert.equal(served.simulator.counters.tokenRequests, 3);

    // Cold isolates while the quota is spent: each proceeds as the lease holder (the store
    // cannot coordinate), so one token request per isolate and office, however many calls.
    const cold = Array.from({ length: 4 }, () => isolate(create, served, upstash, key));
    const served2 = await Promise.allSettled(
      cold.flatMap(({ tokens }) =>
        OFFICES.flatMap((office) => Array.from({ length: 50 }, () => tokens.getToken(office)))
      ),
    );
    assert.ok(served2.every((r) => r.status === "fulfilled"), "cold callers served too");
    const coldRequests = served.simulator.counters.tokenRequests - 3;
    assert.ok(coldRequests <= cold.length * OFFICES.length, `${coldRequests} token requests`);
    const errors = cold.flatMap((i) => i.events).filter((e) => e.type === "store_error");
    assert.ok(errors.length > 0);
    for (const e of errors) {
      if (e.type === "store_error") assert.match(e.message, /^StoreError: Upstash request quota/);
    }
    console.log(
      `quota exhausted: 600 warm calls, 0 token requests, 0 failures; 4 cold isolates × 3 offices × ` +
        `50 calls → ${coldRequests} token requests, 0 failures`,
    );
  });
}
