/**
 * Many "isolates" (TokenManagers with their own Redis clients) sharing one Upstash L2 through
 * the local bridge over a real redis-server, against the AQC simulator; every test with both
 * Upstash clients (tests/helpers/upstash_clients.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type TokenEvent,
  TokenManager,
  type TokenManagerOptions,
  type UpstashRedisClient,
  UpstashTokenStore,
} from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { tokenKeyId } from "../src/token/key.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";
import { rawScan, startUpstash } from "./helpers/redis.ts";
import { startCountingProxy } from "./helpers/counting_proxy.ts";
import { UPSTASH_CLIENTS } from "./helpers/upstash_clients.ts";

const OFFICES = ["NCE1A0955", "DELAI08AA", "PARAF08AA"];

interface Isolate {
  tokens: TokenManager;
  events: TokenEvent[];
}

function isolate(
  served: ServedSimulator,
  redis: UpstashRedisClient,
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
    store: new UpstashTokenStore({ redis, encryptionKey }),
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { tokens, events };
}

function encodings(value: string): string[] {
  const bytes = new TextEncoder().encode(value);
  const base64 = btoa(String.fromCharCode(...bytes));
  return [
    value,
    value.toLowerCase(),
    base64,
    base64.replace(/=+$/, ""),
    base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""),
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
    encodeURIComponent(value),
  ];
}

for (const { name, create } of UPSTASH_CLIENTS) {
  /** The client `createUpstashTokenStore` or the gateway builds (one attempt, per-call timeout). */
  const redisClient = (url: string, token: string, timeoutMs = 500): UpstashRedisClient =>
    create({ url, token, timeoutMs });

  Deno.test(`8 isolates × 3 offices × 100 concurrent cold calls → exactly 3 token requests (${name})`, async () => {
    await using served = await serveSimulator({ knobs: { tokenLatencyMs: 100 } });
    await using upstash = await startUpstash();
    const key = generateTokenKey();
    const isolates = Array.from(
      { length: 8 },
      () => isolate(served, redisClient(upstash.url, upstash.token), key),
    );
    const started = performance.now();
    const results = await Promise.all(
      isolates.flatMap(({ tokens }) =>
        OFFICES.flatMap((office) => Array.from({ length: 100 }, () => tokens.getToken(office)))
      ),
    );
    const elapsed = performance.now() - started;
    const counters = served.simulator.counters;
    assert.equal(counters.tokenRequests, 3);
    for (const office of OFFICES) {
      assert.equal(counters.tokenRequestsByOffice[office], 1);
      const held = new Set(results.filter((t) => t.officeId === office).map((t) => t.accessToken));
      assert.deepEqual([...held], [served.simulator.latestToken(office)?.accessToken]);
    }
    const waits = isolates.flatMap((i) => i.events).filter((e) => e.type === "lease_wait");
    const waited = waits.map((e) => (e.type === "lease_wait" ? e.waitedMs : 0)).sort((a, b) =>
      a - b
    );
    console.log(
      `fleet herd: 2400 calls, ${counters.tokenRequests} token requests, ${
        elapsed.toFixed(0)
      } ms; ` +
        `lease waits n=${waited.length} median=${waited[waited.length >> 1] ?? 0} ms max=${
          waited.at(-1) ?? 0
        } ms`,
    );

    // Raw Redis: no office id, client id, secret or token in any encoding; every key expires.
    const entries = await rawScan(upstash.redis.port);
    assert.ok(entries.length >= 3);
    const needles = [
      ...OFFICES,
      DEFAULT_CLIENT_ID,
      DEFAULT_CLIENT_SECRET,
      ...served.simulator.issuedTokens.map((t) => t.accessToken),
    ].flatMap(encodings);
    for (const entry of entries) {
      assert.ok(entry.ttlMs > 0, `${entry.key} has no TTL`);
      for (const needle of needles) {
        assert.ok(
          !entry.key.includes(needle) && !entry.text.includes(needle),
          `${entry.key} leaks`,
        );
      }
    }
  });

  Deno.test(`a cold isolate on a warm L2: no token request, one Redis round trip; warm calls: none (${name})`, async () => {
    await using served = await serveSimulator();
    await using upstash = await startUpstash();
    const key = generateTokenKey();
    const first = isolate(served, redisClient(upstash.url, upstash.token), key);
    await first.tokens.getToken(OFFICES[0]);
    assert.equal(served.simulator.counters.tokenRequests, 1);

    await using proxy = startCountingProxy(upstash.url);
    const cold = isolate(served, redisClient(proxy.url, upstash.token), key);
    const token = await cold.tokens.getToken(OFFICES[0]);
    assert.equal(token.source, "l2");
    assert.equal(served.simulator.counters.tokenRequests, 1);
    assert.equal(proxy.count, 1, "one round trip");
    assert.equal(proxy.commands, 1, "one MGET");
    for (let i = 0; i < 1_000; i++) await cold.tokens.getToken(OFFICES[0]);
    assert.equal(proxy.count, 1, "1,000 warm calls: no Redis round trip");
    console.log(
      `cold isolate on warm L2: ${proxy.count} round trip; 1,000 warm calls: 0 round trips`,
    );
  });

  Deno.test(`with the bridge stopped or Redis hung, a cold isolate still gets a token in bounded time (${name})`, async () => {
    await using served = await serveSimulator();
    await using upstash = await startUpstash();
    const key = generateTokenKey();
    await upstash.bridge.stop();
    const down = isolate(served, redisClient(upstash.url, upstash.token, 300), key, {
      storeTimeoutMs: 300,
    });
    let started = performance.now();
    assert.equal((await down.tokens.getToken(OFFICES[0])).source, "endpoint");
    const downMs = performance.now() - started;
    assert.ok(down.events.some((e) => e.type === "store_error"));

    await upstash.bridge.start();
    await upstash.redis.pause(); // connections open, nothing answers
    const hung = isolate(served, redisClient(upstash.url, upstash.token, 300), key, {
      storeTimeoutMs: 300,
    });
    started = performance.now();
    try {
      assert.equal((await hung.tokens.getToken(OFFICES[1])).source, "endpoint");
    } finally {
      await upstash.redis.resume();
    }
    const hungMs = performance.now() - started;
    // Bounded: a read, a lease and a write, each cut at the 300 ms store timeout.
    assert.ok(hungMs < 3_000, `took ${hungMs} ms`);
    assert.ok(hung.events.filter((e) => e.type === "store_error").length >= 2);
    console.log(
      `store down: token in ${downMs.toFixed(0)} ms (bridge stopped), ${
        hungMs.toFixed(0)
      } ms (Redis hung)`,
    );
  });

  Deno.test(`a dead lease holder delays others only until its lease expires; one token request (${name})`, async () => {
    await using served = await serveSimulator();
    await using upstash = await startUpstash();
    const key = generateTokenKey();
    const redis = redisClient(upstash.url, upstash.token);
    const store = new UpstashTokenStore({ redis, encryptionKey: key });
    const id = await tokenKeyId(
      { apiUrl: served.url, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
      OFFICES[0],
    );
    // An isolate took the lease and died without releasing it.
    assert.ok(await store.acquireLease(id, "dead-isolate", 800));
    const others = Array.from(
      { length: 4 },
      () => isolate(served, redisClient(upstash.url, upstash.token), key),
    );
    const started = performance.now();
    const results = await Promise.all(
      others.flatMap(({ tokens }) => Array.from({ length: 25 }, () => tokens.getToken(OFFICES[0]))),
    );
    const elapsed = performance.now() - started;
    assert.equal(served.simulator.counters.tokenRequests, 1);
    assert.equal(new Set(results.map((t) => t.accessToken)).size, 1);
    assert.ok(elapsed >= 700, `waited for the lease: ${elapsed} ms`);
    assert.ok(elapsed < 3_000, `not much longer: ${elapsed} ms`);
    console.log(
      `dead lease holder (800 ms lease): others served after ${
        elapsed.toFixed(0)
      } ms, 1 token request`,
    );
  });

  Deno.test(`a shared failure reaches every isolate: credentials_rejected asked once fleet-wide (${name})`, async () => {
    await using served = await serveSimulator();
    await using upstash = await startUpstash();
    const key = generateTokenKey();
    const isolates = Array.from({ length: 4 }, () => {
      const events: TokenEvent[] = [];
      return new TokenManager({
        credentials: {
          apiUrl: served.url,
          clientId: DEFAULT_CLIENT_ID,
          clientSecret: "wrong-secret",
        },
        store: new UpstashTokenStore({
          redis: redisClient(upstash.url, upstash.token),
          encryptionKey: key,
        }),
        onEvent: (e) => events.push(e),
      });
    });
    for (const tokens of isolates) {
      await assert.rejects(
        tokens.getToken(OFFICES[0]),
        (e: Error & { code?: string }) => e.code === "credentials_rejected",
      );
    }
    assert.equal(served.simulator.counters.tokenRequests, 1);
  });
}
