/**
 * The manager bounds every store call itself: a custom `TokenStore` (or a Redis client
 * without its own timeout) that never answers is a cache miss after `storeTimeoutMs`, never
 * a hung `getToken`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type TokenEvent, TokenManager, type TokenStore } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";

const OFFICE = "NCE1A0955";

/** A store whose every call hangs until `release()` (then it answers "nothing there"). */
function hangingStore(): { store: TokenStore; calls: string[]; release(): void } {
  const calls: string[] = [];
  const waiters: (() => void)[] = [];
  let released = false;
  const hang = <T>(name: string, value: T): Promise<T> => {
    calls.push(name);
    if (released) return Promise.resolve(value);
    return new Promise<T>((resolve) => waiters.push(() => resolve(value)));
  };
  return {
    calls,
    store: {
      read: () => hang("read", {}),
      writeToken: () => hang("writeToken", undefined),
      deleteToken: () => hang("deleteToken", false),
      writeFailure: () => hang("writeFailure", undefined),
      acquireLease: () => hang("acquireLease", true),
      releaseLease: () => hang("releaseLease", undefined),
    },
    release() {
      released = true;
      for (const wake of waiters.splice(0)) wake();
    },
  };
}

deadlineTest(
  "a TokenStore that never answers is a miss after storeTimeoutMs, not a hung getToken",
  10_000,
  async ({ defer }) => {
    const served = await serveSimulator();
    defer(() => served.close());
    const hanging = hangingStore();
    const events: TokenEvent[] = [];
    const tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      store: hanging.store,
      storeTimeoutMs: 100,
      refreshJitterSeconds: 0,
      onEvent: (event) => events.push(event),
    });
    defer(() => tokens.whenIdle());
    // Deferred after whenIdle, so it runs first (cleanups run last-in first-out): a manager
    // stuck on the store must be released before it is waited for, or a hang past the
    // deadline never ends and the test fails without its name.
    defer(() => hanging.release());

    const token = await tokens.getToken(OFFICE);
    assert.equal(token.source, "endpoint");
    assert.equal(served.simulator.counters.tokenRequests, 1);
    assert.ok(hanging.calls.includes("read"), "the store was asked");
    const timedOut = events.filter((e) => e.type === "store_error");
    assert.ok(timedOut.length >= 1, "store timeouts are reported");
    for (const event of timedOut) {
      assert.ok(event.type === "store_error");
      assert.match(event.message, /within 100 ms|time/i);
    }
    // invalidate() is bounded too.
    assert.equal(await tokens.invalidate(OFFICE, token.accessToken), true);
  },
);
