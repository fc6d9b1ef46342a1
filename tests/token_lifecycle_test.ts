/**
 * Module-scope safety of `TokenManager` and what `whenIdle()` / `Symbol.asyncDispose`
 * wait for (#12 items 2 and 5).
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryTokenStore, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

/** Makes every random, timer and I/O primitive throw while `build` runs, as workerd does. */
function withoutSideEffects<T>(build: () => T): T {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = {
    randomUUID: crypto.randomUUID,
    getRandomValues: crypto.getRandomValues,
    random: Math.random,
    setTimeout: g.setTimeout,
    setInterval: g.setInterval,
    fetch: g.fetch,
  };
  const refuse = (what: string) => () => {
    throw new Error(`Disallowed operation called within global scope: ${what}`);
  };
  crypto.randomUUID = refuse("randomUUID") as typeof crypto.randomUUID;
  crypto.getRandomValues = refuse("getRandomValues") as typeof crypto.getRandomValues;
  Math.random = refuse("Math.random");
  g.setTimeout = refuse("setTimeout");
  g.setInterval = refuse("setInterval");
  g.fetch = refuse("fetch");
  try {
    return build();
  } finally {
    crypto.randomUUID = saved.randomUUID;
    crypto.getRandomValues = saved.getRandomValues;
    Math.random = saved.random;
    g.setTimeout = saved.setTimeout;
    g.setInterval = saved.setInterval;
    g.fetch = saved.fetch;
  }
}

Deno.test("constructing a TokenManager draws no random value, starts no timer and does no I/O", async () => {
  await using served = await serveSimulator();
  const credentials = {
    apiUrl: served.url,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
  };
  const tokens = withoutSideEffects(() => new TokenManager({ credentials }));
  const shared = withoutSideEffects(() =>
    new TokenManager({ credentials, store: new MemoryTokenStore() })
  );
  // Built that way, they work once the request scope allows random values and I/O.
  assert.equal((await tokens.getToken(OFFICE)).source, "endpoint");
  assert.equal((await shared.getToken(OFFICE)).source, "endpoint");
  await tokens.whenIdle();
  await shared.whenIdle();
});

Deno.test("whenIdle waits for a background refresh handed to waitUntil, and for its store write", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  const now = (): number => time;
  await using served = await serveSimulator({ now, knobs: { tokenLatencyMs: 300 } });
  const store = new MemoryTokenStore({ now });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store,
    now,
    refreshJitterSeconds: 0,
  });
  const first = await tokens.getToken(OFFICE);
  time += 1_600_000; // inside the refresh window
  const handed: Promise<unknown>[] = [];
  const served1 = await tokens.getToken(OFFICE, { waitUntil: (p) => void handed.push(p) });
  assert.equal(served1.accessToken, first.accessToken, "the cached token at once");
  assert.equal(handed.length, 1, "the refresh went to waitUntil");
  await tokens.whenIdle();
  assert.equal(served.simulator.counters.tokenRequests, 2, "whenIdle waited for the refresh");
  const after = await tokens.getToken(OFFICE);
  assert.notEqual(after.accessToken, first.accessToken);
  assert.equal(after.source, "l1");
  // The new token reached L2 before whenIdle resolved.
  const other = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store,
    now,
  });
  assert.equal((await other.getToken(OFFICE)).accessToken, after.accessToken);
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("await using a TokenManager waits for its background work when the scope ends", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  const now = (): number => time;
  await using served = await serveSimulator({ now, knobs: { tokenLatencyMs: 300 } });
  {
    await using tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      now,
      refreshJitterSeconds: 0,
    });
    await tokens.getToken(OFFICE);
    time += 1_600_000;
    await tokens.getToken(OFFICE, { waitUntil: () => {} });
    assert.equal(served.simulator.counters.tokenRequests, 1, "the refresh has not landed yet");
  }
  assert.equal(served.simulator.counters.tokenRequestsInFlight, 0);
  assert.equal(served.simulator.counters.tokenRequests, 2);
});
