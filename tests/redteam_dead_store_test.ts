/**
 * REDTEAM: with a store that never answers, a cold `getToken` waited for four store
 * timeouts (read, lease, then the token write and the lease release) although the token is
 * in hand after the second. With the gateway's 500 ms store timeout that was 2 s added to
 * every cold office while Redis was down, and 2 s more for each next one.
 *
 * Now the first timeout (or a failure that took half the store timeout: a client's own
 * timeout) pauses the store (`STORE_PAUSE_TIMEOUTS` store timeouts): the cold
 * office waits for one timeout, later cold offices for none, and the lease release is still
 * sent, in the background, until an answer ends the pause.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type StoredEntry, type TokenEvent, TokenManager, type TokenStore } from "../src/mod.ts";
import { STORE_PAUSE_TIMEOUTS } from "../src/token/shared_cache.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

/** A store that hangs while `dead`, and answers "nothing there" once revived. */
class DeadStore implements TokenStore {
  calls: string[] = [];
  dead = true;
  #answer<T>(operation: string, value: T): Promise<T> {
    this.calls.push(operation);
    return this.dead ? new Promise<T>(() => {}) : Promise.resolve(value);
  }
  read(): Promise<StoredEntry> {
    return this.#answer("read", {});
  }
  writeToken(): Promise<void> {
    return this.#answer("writeToken", undefined);
  }
  deleteToken(): Promise<boolean> {
    return this.#answer("deleteToken", false);
  }
  writeFailure(): Promise<void> {
    return this.#answer("writeFailure", undefined);
  }
  acquireLease(): Promise<boolean> {
    return this.#answer("acquireLease", true);
  }
  releaseLease(): Promise<void> {
    return this.#answer("releaseLease", undefined);
  }
}

function manager(store: TokenStore, url: string, storeTimeoutMs: number, events?: TokenEvent[]) {
  return new TokenManager({
    credentials: { apiUrl: url, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
    store,
    storeTimeoutMs,
    ...(events ? { onEvent: (event: TokenEvent) => void events.push(event) } : {}),
  });
}

Deno.test("a dead store: one store timeout for the first cold office, none for the next, the release still sent", async () => {
  await using served = await serveSimulator();
  const store = new DeadStore();
  const events: TokenEvent[] = [];
  // Long enough a pause (10 × 100 ms) for every step below to happen inside it.
  const tokens = manager(store, served.url, 100, events);
  const first = await tokens.getToken("NCE1A0955");
  assert.equal(first.source, "endpoint");
  // Awaited: the read, which timed out. The lease and the write were skipped; the release
  // was sent but not awaited.
  assert.deepEqual(store.calls, ["read", "releaseLease"]);
  const second = await tokens.getToken("MUC1A0701");
  assert.equal(second.source, "endpoint");
  assert.deepEqual(store.calls, ["read", "releaseLease", "releaseLease"], "nothing awaited");
  const skipped = events.flatMap((e) =>
    e.type === "store_error" && /skipped/.test(e.message) ? [e.operation] : []
  );
  assert.deepEqual(skipped, ["acquireLease", "writeToken", "read", "acquireLease", "writeToken"]);
  assert.equal(served.simulator.counters.tokenRequests, 2);

  // The readiness probe is never skipped, and an answer ends the pause.
  store.dead = false;
  assert.equal(await tokens.probeStore(), true);
  store.calls.length = 0;
  const third = await tokens.getToken("LON1A0800");
  assert.equal(third.source, "endpoint");
  assert.deepEqual(store.calls.slice(0, 2), ["read", "acquireLease"], "asked again");
  assert.ok(store.calls.includes("writeToken"), "the token is shared again");
  await tokens.whenIdle();
});

Deno.test("a dead store: the pause ends by itself after STORE_PAUSE_TIMEOUTS store timeouts", async () => {
  await using served = await serveSimulator();
  const store = new DeadStore();
  const storeTimeoutMs = 20;
  const tokens = manager(store, served.url, storeTimeoutMs);
  await tokens.getToken("NCE1A0955");
  assert.deepEqual(store.calls, ["read", "releaseLease"]);
  await new Promise((resolve) => setTimeout(resolve, STORE_PAUSE_TIMEOUTS * storeTimeoutMs + 50));
  store.calls.length = 0;
  await tokens.getToken("MUC1A0701");
  // Asked again once the pause is over; the read timed out again and paused it again.
  assert.deepEqual(store.calls, ["read", "releaseLease"]);
  await tokens.whenIdle();
});

/** A store whose every call fails: after `afterMs` (a client's own timeout), or at once. */
class FailingStore extends DeadStore {
  constructor(readonly afterMs: number) {
    super();
  }
  override read(): Promise<StoredEntry> {
    this.calls.push("read");
    return new Promise((_, reject) =>
      setTimeout(() => reject(new TypeError("Upstash did not answer")), this.afterMs)
    );
  }
}

Deno.test("a store client's own timeout pauses the store too; a fast failure does not", async () => {
  await using served = await serveSimulator();
  // Fails after 60 of its 100 ms: a client timing out on its own, just under the manager.
  const slow = new FailingStore(60);
  slow.dead = false;
  const paused = manager(slow, served.url, 100);
  await paused.getToken("NCE1A0955");
  assert.deepEqual(slow.calls, ["read", "releaseLease"], "lease and write skipped");
  await paused.whenIdle();
  // Refused at once: nothing gained by skipping, every step is tried.
  const fast = new FailingStore(0);
  fast.dead = false;
  const tried = manager(fast, served.url, 100);
  await tried.getToken("NCE1A0955");
  for (const step of ["acquireLease", "writeToken", "releaseLease"]) {
    assert.ok(fast.calls.includes(step), `${step} tried: ${fast.calls.join(", ")}`);
  }
  await tried.whenIdle();
});
