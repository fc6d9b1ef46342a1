/**
 * A token AQC refused (invalidated after a 401) is never taken back from L2 by this
 * isolate: not when the L2 compare-and-delete failed and the refused token is still in
 * Redis, and not while that delete is still on its way.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createUpstashRest } from "../src/store/upstash_rest.ts";
import { type TokenEvent, TokenManager, type TokenStore, UpstashTokenStore } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";
import { rawScan, startUpstash } from "./helpers/redis.ts";
import { randomTokenKey } from "./helpers/keys.ts";

const OFFICE = "NCE1A0955";

/** A real Upstash store whose compare-and-delete is `deleteToken`. */
function withDelete(store: TokenStore, deleteToken: TokenStore["deleteToken"]): TokenStore {
  return {
    read: (id, ...rest) => store.read(id, ...rest),
    writeToken: (id, token) => store.writeToken(id, token),
    deleteToken,
    writeFailure: (id, failure) => store.writeFailure(id, failure),
    acquireLease: (id, owner, ttlMs) => store.acquireLease(id, owner, ttlMs),
    releaseLease: (id, owner) => store.releaseLease(id, owner),
  };
}

/**
 * Redis with the bridge, the simulator, and a manager on a real Upstash store whose
 * compare-and-delete is replaced; all stopped by `defer`.
 */
async function start(
  defer: (cleanup: () => unknown) => void,
  deleteToken: (store: TokenStore) => TokenStore["deleteToken"],
  onEvent?: (event: TokenEvent) => void,
) {
  const upstash = await startUpstash();
  defer(() => upstash.stop());
  const served = await serveSimulator();
  defer(() => served.close());
  // The client the gateway builds (one attempt per call, a fresh timeout per call).
  const redis = createUpstashRest({ url: upstash.url, token: upstash.token, timeoutMs: 2_000 });
  const real = new UpstashTokenStore({ redis, encryptionKey: randomTokenKey() });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store: withDelete(real, deleteToken(real)),
    refreshJitterSeconds: 0,
    ...(onEvent === undefined ? {} : { onEvent }),
  });
  defer(() => tokens.whenIdle());
  return { upstash, served, tokens };
}

deadlineTest(
  "a refused token still in Redis after a failed compare-and-delete is never adopted again",
  20_000,
  async ({ defer }) => {
    const events: TokenEvent[] = [];
    const { upstash, served, tokens } = await start(
      defer,
      () => () => Promise.reject(new Error("Redis did not answer the compare-and-delete")),
      (event) => events.push(event),
    );

    const refused = await tokens.getToken(OFFICE);
    assert.equal(refused.source, "endpoint");
    const recordsBefore = (await rawScan(upstash.redis.port)).filter((e) => /tok/.test(e.key));
    assert.equal(recordsBefore.length, 1, "the token is in Redis");

    await tokens.invalidate(OFFICE, refused.accessToken);
    assert.ok(
      events.some((e) => e.type === "store_error" && e.operation === "deleteToken"),
      "the compare-and-delete failed",
    );
    const recordsAfter = (await rawScan(upstash.redis.port)).filter((e) => /tok/.test(e.key));
    assert.deepEqual(
      recordsAfter.map((e) => e.text),
      recordsBefore.map((e) => e.text),
      "the refused token is still in Redis",
    );

    const next = await tokens.getToken(OFFICE);
    assert.notEqual(next.accessToken, refused.accessToken, "the refused token came back");
    assert.equal(next.source, "endpoint");
    assert.equal(served.simulator.counters.tokenRequests, 2);
    // And it stays gone: later calls get the new token, never the refused one.
    for (let i = 0; i < 3; i++) {
      assert.equal((await tokens.getToken(OFFICE)).accessToken, next.accessToken);
    }
  },
);

// CI failure of tests/resilience_token_test.ts (325 revoked sends, 401s after recovery):
// a caller that read L2 before the compare-and-delete landed adopted the refused token, and
// the eviction window then refused to evict it again for 30 s.
deadlineTest(
  "a caller asking while the compare-and-delete is on its way does not take the refused token back",
  20_000,
  async ({ defer }) => {
    let release = () => {};
    const released = new Promise<void>((resolve) => release = resolve);
    const { served, tokens } = await start(defer, (store) => async (id, accessToken) => {
      await released;
      return await store.deleteToken(id, accessToken);
    });

    const refused = await tokens.getToken(OFFICE);
    const invalidated = tokens.invalidate(OFFICE, refused.accessToken);
    // The refused token is still in Redis while this caller reads L2.
    const next = await tokens.getToken(OFFICE);
    release();
    assert.equal(await invalidated, true);
    assert.notEqual(next.accessToken, refused.accessToken, "the refused token came back");
    assert.equal(next.source, "endpoint");
    assert.equal(served.simulator.counters.tokenRequests, 2);
    // A second 401 inside the eviction window would be refused: the token must not be there.
    assert.equal((await tokens.getToken(OFFICE)).accessToken, next.accessToken);
  },
);
