/**
 * The refresh lease (single flight across isolates) is released as soon as a refresh ends,
 * whether it got a token or a failure: a lease left held stalls every other isolate's
 * refresh until its TTL. Checked in Redis itself, not through the store.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createUpstashRest } from "../src/store/upstash_rest.ts";
import { AqcError, TokenManager, UpstashTokenStore } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";
import { rawScan, startUpstash } from "./helpers/redis.ts";
import { randomTokenKey } from "./helpers/keys.ts";

const OFFICE = "NCE1A0955";
const OTHER = "DELAI08AA";

/** Lease keys in Redis, polled briefly: a release may trail the answer by a round trip. */
async function leaseKeys(port: number): Promise<string[]> {
  let keys: string[] = [];
  for (let i = 0; i < 20; i++) {
    keys = (await rawScan(port)).map((e) => e.key).filter((key) => /lease/.test(key));
    if (keys.length === 0) return keys;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return keys;
}

deadlineTest(
  "no lease is left in Redis after a refresh, successful or failed",
  20_000,
  async ({ defer }) => {
    const upstash = await startUpstash();
    defer(() => upstash.stop());
    const served = await serveSimulator();
    defer(() => served.close());
    // The client the gateway builds (one attempt per call, a fresh timeout per call).
    const redis = createUpstashRest({ url: upstash.url, token: upstash.token, timeoutMs: 2_000 });
    const tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      store: new UpstashTokenStore({ redis, encryptionKey: randomTokenKey() }),
      refreshJitterSeconds: 0,
      storeTimeoutMs: 2_000,
    });
    defer(() => tokens.whenIdle());
    const port = upstash.redis.port;

    // A refresh that got a token.
    const token = await tokens.getToken(OFFICE);
    assert.equal(token.source, "endpoint");
    const keys = (await rawScan(port)).map((e) => e.key);
    assert.ok(keys.some((key) => /tok/.test(key)), `token stored: ${keys.join(", ")}`);
    assert.deepEqual(await leaseKeys(port), [], "lease after a successful refresh");

    // A refresh that failed (credentials rejected: no retry).
    served.simulator.configure({ tokenFailure: { mode: "invalid_client", offices: [OTHER] } });
    const error = await tokens.getToken(OTHER).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AqcError && error.code === "credentials_rejected", String(error));
    assert.deepEqual(await leaseKeys(port), [], "lease after a failed refresh");

    // A second manager (another isolate) refreshes at once: nothing stalls it.
    const peer = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      store: new UpstashTokenStore({ redis, encryptionKey: randomTokenKey() }),
      refreshJitterSeconds: 0,
      storeTimeoutMs: 2_000,
    });
    const fromPeer = await peer.getToken(OFFICE);
    assert.equal(fromPeer.source, "endpoint", "another key: its own token");
    assert.deepEqual(await leaseKeys(port), [], "lease after the peer's refresh");
  },
);
