/**
 * REDTEAM: with a store that never answers, a cold `getToken` waits for four store
 * timeouts (read, lease, then the token write and the lease release) although the token is
 * in hand after the second: the write and the release run before the flight settles.
 * With the gateway's 500 ms store timeout that is 2 s added to every cold office while
 * Redis is down, 1 s of it after the token arrived.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type StoredEntry, TokenManager, type TokenStore } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

class DeadStore implements TokenStore {
  calls: string[] = [];
  #hang<T>(operation: string): Promise<T> {
    this.calls.push(operation);
    return new Promise<T>(() => {});
  }
  read(): Promise<StoredEntry> {
    return this.#hang("read");
  }
  writeToken(): Promise<void> {
    return this.#hang("writeToken");
  }
  deleteToken(): Promise<boolean> {
    return this.#hang("deleteToken");
  }
  writeFailure(): Promise<void> {
    return this.#hang("writeFailure");
  }
  acquireLease(): Promise<boolean> {
    return this.#hang("acquireLease");
  }
  releaseLease(): Promise<void> {
    return this.#hang("releaseLease");
  }
}

Deno.test({
  // REDTEAM: hand the token to callers before the L2 write and the lease release (both
  // still tracked by whenIdle). Not small: tests and peers rely on "L2 holds the token
  // once getToken resolves", and the write must still precede the release.
  ignore: true,
  name: "a dead store: a cold getToken waits for at most two store timeouts",
  fn: async () => {
    await using served = await serveSimulator();
    const store = new DeadStore();
    const tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      store,
      storeTimeoutMs: 100,
    });
    await tokens.getToken("NCE1A0955");
    const before = [...store.calls];
    await tokens.whenIdle();
    assert.deepEqual(
      before,
      ["read", "acquireLease"],
      `awaited before the token: ${before.join(", ")}`,
    );
  },
});
