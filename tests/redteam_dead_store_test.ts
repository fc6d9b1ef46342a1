/**
 * REDTEAM: with a store that never answers, a cold `getToken` waited for four store
 * timeouts (read, lease, then the token write and the lease release) although the token is
 * in hand after the second. With the gateway's 500 ms store timeout that was 2 s added to
 * every cold office while Redis was down, 1 s of it after the token arrived.
 *
 * Now, once a store call of the refresh has timed out, the write and the release run in the
 * background, in that order: every call is still made (a first version that skipped calls
 * after a timeout cost the fleet more token requests wherever the store stalls now and
 * then), and the callers' `waitUntil` keeps them alive.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  MemoryTokenStore,
  type StoredEntry,
  type TokenEvent,
  TokenManager,
  type TokenManagerOptions,
  type TokenStore,
} from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

/** A manager of the simulator's default client over `store`. */
function manager(
  served: { url: string },
  store: TokenStore,
  options: Partial<TokenManagerOptions> = {},
): TokenManager {
  return new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store,
    storeTimeoutMs: 100,
    ...options,
  });
}

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

Deno.test("a dead store: a cold getToken waits for two store timeouts; the write and the release follow", async () => {
  await using served = await serveSimulator();
  const store = new DeadStore();
  const timeouts: string[] = [];
  const kept: Promise<unknown>[] = [];
  const tokens = manager(served, store, {
    onEvent: (event: TokenEvent) => {
      if (event.type === "store_error") timeouts.push(event.operation);
    },
  });
  const token = await tokens.getToken("NCE1A0955", { waitUntil: (p) => void kept.push(p) });
  assert.equal(token.source, "endpoint");
  assert.deepEqual(timeouts, ["read", "acquireLease"], "waited for before the token");
  assert.deepEqual(store.calls, ["read", "acquireLease", "writeToken"], "the write is on its way");
  // What was handed to waitUntil settles only once the write and then the release are done.
  await Promise.all(kept);
  assert.deepEqual(timeouts, ["read", "acquireLease", "writeToken", "releaseLease"]);
  assert.deepEqual(store.calls, ["read", "acquireLease", "writeToken", "releaseLease"]);
  await tokens.whenIdle();
});

/** A store that answers (with nothing there; writes after 30 ms), recording the calls. */
class EmptyStore extends DeadStore {
  override read(): Promise<StoredEntry> {
    this.calls.push("read");
    return Promise.resolve({});
  }
  override writeToken(): Promise<void> {
    this.calls.push("writeToken");
    return new Promise((resolve) => setTimeout(resolve, 30));
  }
  override acquireLease(): Promise<boolean> {
    this.calls.push("acquireLease");
    return Promise.resolve(true);
  }
  override releaseLease(): Promise<void> {
    this.calls.push("releaseLease");
    return Promise.resolve();
  }
}

Deno.test("a store that answers: L2 holds the token once getToken resolves, as before", async () => {
  await using served = await serveSimulator();
  const store = new EmptyStore();
  const tokens = manager(served, store);
  await tokens.getToken("NCE1A0955");
  // Awaited, in order: a slow write within the timeout is no reason to leave it behind.
  assert.deepEqual(store.calls.slice(-2), ["writeToken", "releaseLease"]);
  await tokens.whenIdle();
});

/**
 * The 401 flow behind a slow store (red team of the background tail): isolate A's first
 * read times out, so its write (VAR write) or its release (VAR release) is still on its way
 * when A invalidates the token and asks again; isolate B comes cold meanwhile.
 */
async function invalidateWhileTailRuns(slow: "writeToken" | "releaseLease") {
  const T = 100;
  await using served = await serveSimulator();
  served.simulator.configure({ tokenLatencyMs: 20 });
  const shared = new MemoryTokenStore();
  let firstRead = true;
  const slowA = new Proxy(shared, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const late = name === "read" && firstRead ? 1.2 * T : name === slow ? 0.7 * T : 0;
        if (name === "read") firstRead = false;
        if (late > 0) await new Promise((resolve) => setTimeout(resolve, late));
        return await value.apply(target, args);
      };
    },
  });
  const a = manager(served, slowA, { storeTimeoutMs: T });
  const b = manager(served, shared, { storeTimeoutMs: T });
  const refused = await a.getToken("NCE1A0955");
  await a.invalidate("NCE1A0955", refused.accessToken);
  served.simulator.configure({ tokenLatencyMs: 250 });
  const again = a.getToken("NCE1A0955");
  await new Promise((resolve) => setTimeout(resolve, 120));
  const peer = await b.getToken("NCE1A0955");
  await again;
  await a.whenIdle();
  await b.whenIdle();
  return { refused, peer, tokenRequests: served.simulator.counters.tokenRequests };
}

Deno.test("a slow store: invalidate waits for the background write, so no peer adopts the refused token", async () => {
  const { refused, peer } = await invalidateWhileTailRuns("writeToken");
  assert.notEqual(peer.accessToken, refused.accessToken);
});

Deno.test("a slow store: the next refresh waits for the background release, so its lease holds", async () => {
  // Had the old release dropped the lease the second refresh extended, B would have taken
  // it and asked for a third token.
  const { tokenRequests } = await invalidateWhileTailRuns("releaseLease");
  assert.equal(tokenRequests, 2);
});

Deno.test("a slow store: an office evicted from the table keeps its tail, and invalidate still waits for it", async () => {
  const T = 100;
  await using served = await serveSimulator();
  const shared = new MemoryTokenStore();
  let slowOffice: string | undefined;
  let slow = true;
  const slowA = new Proxy(shared, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        // The first office's entry id: its first read times out, its write comes late.
        slowOffice ??= String(args[0]);
        const ours = slow && args[0] === slowOffice;
        const late = ours && name === "read"
          ? 1.5 * T
          : ours && name === "writeToken"
          ? 0.8 * T
          : 0;
        if (late > 0) await new Promise((resolve) => setTimeout(resolve, late));
        return await value.apply(target, args);
      };
    },
  });
  const a = manager(served, slowA, { storeTimeoutMs: T, maxOffices: 2 });
  const refused = await a.getToken("NCE1A0955");
  // Two more offices push NCE1A0955 out of a's table while its write is on its way.
  await a.getToken("PAR1A0000");
  await a.getToken("LON1A0000");
  served.simulator.revoke(refused.accessToken);
  await a.invalidate("NCE1A0955", refused.accessToken);
  await a.whenIdle();
  slow = false;
  const peer = manager(served, shared, { storeTimeoutMs: T });
  const token = await peer.getToken("NCE1A0955");
  assert.notEqual(token.accessToken, refused.accessToken, "the refused token came back from L2");
  await peer.whenIdle();
});
