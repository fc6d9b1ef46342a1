/**
 * REDTEAM: with Upstash's eventually consistent replicas, a cold isolate's first L2 read
 * (an `MGET`, served by a replica) can still return a token another isolate has just
 * evicted because AQC refused it: the cold isolate adopts and hands out the refused token.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TokenManager } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { createUpstashTokenStore } from "../src/store/upstash_client.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";
import { type LocalUpstash, startUpstash } from "./helpers/redis.ts";

const OFFICE = "NCE1A0955";

function isolate(served: ServedSimulator, upstash: LocalUpstash, key: string): TokenManager {
  return new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store: createUpstashTokenStore({
      url: upstash.url,
      token: upstash.token,
      encryptionKey: key,
      timeoutMs: 1_000,
    }),
    storeTimeoutMs: 1_000,
  });
}

Deno.test({
  // REDTEAM: a cold isolate adopts a token just evicted elsewhere, from a lagging replica.
  // The fix is a design choice (a fresh, primary read for every cold adoption, or a
  // short-lived "evicted" marker that the cold path reads fresh), not a small patch.
  ignore: true,
  name: "a cold isolate never adopts a token another isolate has just evicted (replica lag 500 ms)",
  fn: async () => {
    await using served = await serveSimulator();
    await using upstash = await startUpstash({
      replica: true,
      habits: { replicaLagMs: 500, syncTokens: false },
    });
    const key = generateTokenKey();
    const a = isolate(served, upstash, key);
    const first = await a.getToken(OFFICE);
    await a.whenIdle();
    // Let the replica catch up with the write, so it holds the token.
    await new Promise((r) => setTimeout(r, 700));
    // AQC refused it: A evicts it (on the primary) and gets a replacement.
    assert.equal(await a.invalidate(OFFICE, first.accessToken), true);
    const second = await a.getToken(OFFICE);
    await a.whenIdle();
    const cold = isolate(served, upstash, key);
    const adopted = await cold.getToken(OFFICE);
    await cold.whenIdle();
    assert.notEqual(adopted.accessToken, first.accessToken, "the refused token was adopted");
    assert.equal(adopted.accessToken, second.accessToken);
  },
});
