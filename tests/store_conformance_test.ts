/**
 * Both stores pass the exported TokenStore conformance suite (src/store/conformance.ts): the
 * memory store, and the Upstash store through the bridge with production habits, with each of
 * the two Upstash clients (tests/helpers/upstash_clients.ts); a store that breaks one rule
 * fails it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryTokenStore, type TokenStore } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { testTokenStore } from "../src/store/conformance.ts";
import { UpstashTokenStore } from "../src/store/upstash_store.ts";
import { startUpstash } from "./helpers/redis.ts";
import { UPSTASH_CLIENTS } from "./helpers/upstash_clients.ts";

Deno.test("MemoryTokenStore passes the TokenStore conformance suite", async (t) => {
  await testTokenStore("memory", () => new MemoryTokenStore(), {
    test: (name, fn) => t.step(name, fn),
  });
});

for (const { name, create } of UPSTASH_CLIENTS) {
  Deno.test(`UpstashTokenStore passes the TokenStore conformance suite (replica lag, latency; ${name})`, async (t) => {
    await using upstash = await startUpstash({
      replica: true,
      habits: { replicaLagMs: 150, latencyMs: [5, 15], syncTokens: false },
    });
    const encryptionKey = generateTokenKey();
    await testTokenStore(
      `upstash (${name})`,
      () => new UpstashTokenStore({ redis: create(upstash), encryptionKey }),
      { test: (name, fn) => t.step(name, fn) },
    );
  });
}

Deno.test("the conformance suite fails a store that breaks compare-and-delete", async () => {
  const broken = (): TokenStore => {
    const inner = new MemoryTokenStore();
    return {
      read: (id, options) => inner.read(id, options),
      writeToken: (id, token) => inner.writeToken(id, token),
      // Deletes whatever is there: the bug compare-and-delete exists to prevent.
      deleteToken: async (id) => {
        const current = (await inner.read(id)).token;
        return current === undefined ? false : inner.deleteToken(id, current.accessToken);
      },
      writeFailure: (id, failure) => inner.writeFailure(id, failure),
      acquireLease: (id, owner, ttl) => inner.acquireLease(id, owner, ttl),
      releaseLease: (id, owner) => inner.releaseLease(id, owner),
    };
  };
  const failures: string[] = [];
  await testTokenStore("broken", broken, {
    test: async (name, fn) => {
      try {
        await fn();
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      }
    },
  });
  assert.deepEqual(failures, [
    "broken: deleteToken is compare-and-delete: deleted another token's entry",
  ]);
});
