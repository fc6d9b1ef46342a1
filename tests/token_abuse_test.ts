/**
 * Token spend under hostile callers and a failing token endpoint (#11.2, #11.3): evictions
 * per office, a flood of distinct offices, retry amplification against 429/503, with the
 * simulator over real HTTP on loopback.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  AqcError,
  MemoryTokenStore,
  type TokenEvent,
  TokenManager,
  type TokenManagerOptions,
  type TokenStore,
} from "../src/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";
const WARM = "DELAI08AA";
const office = (n: number): string => `PAR${String(n).padStart(6, "0")}`;

function manager(
  served: ServedSimulator,
  options: Partial<TokenManagerOptions> = {},
): { tokens: TokenManager; events: TokenEvent[] } {
  const events: TokenEvent[] = [];
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    refreshJitterSeconds: 0,
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 100,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { tokens, events };
}

const codeOf = (error: unknown): string | undefined =>
  error instanceof AqcError ? error.code : undefined;

Deno.test("50 sequential evictions of an office's token cost at most 2 token requests", async () => {
  await using served = await serveSimulator();
  const { tokens, events } = manager(served);
  await tokens.getToken(WARM);
  for (let i = 0; i < 50; i++) {
    const token = await tokens.getToken(OFFICE);
    await tokens.invalidate(OFFICE, token.accessToken);
  }
  const final = await tokens.getToken(OFFICE);
  const byOffice = served.simulator.counters.tokenRequestsByOffice;
  assert.ok(byOffice[OFFICE] <= 2, `${byOffice[OFFICE]} token requests`);
  assert.equal(byOffice[WARM], 1, "another office is untouched");
  assert.equal(final.accessToken, served.simulator.latestToken(OFFICE)?.accessToken);
  const refused = events.filter((e) => e.type === "invalidated" && e.refused).length;
  assert.equal(refused, 49);
  await tokens.whenIdle();
});

Deno.test("an eviction is honoured again once the window has passed; a refused token is never adopted", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  const now = (): number => time;
  await using served = await serveSimulator({ now });
  const store = new MemoryTokenStore({ now });
  const { tokens } = manager(served, { now, store, evictionWindowSeconds: 30 });
  const first = await tokens.getToken(OFFICE);
  assert.equal(await tokens.invalidate(OFFICE, first.accessToken), true);
  const second = await tokens.getToken(OFFICE);
  assert.equal(await tokens.invalidate(OFFICE, second.accessToken), false, "inside the window");
  assert.equal((await tokens.getToken(OFFICE)).accessToken, second.accessToken);
  time += 30_000;
  assert.equal(await tokens.invalidate(OFFICE, second.accessToken), true, "window passed");
  const third = await tokens.getToken(OFFICE);
  assert.notEqual(third.accessToken, second.accessToken);
  // A peer still holding the refused token in L2 cannot get it adopted again.
  await store.writeToken(
    await (await import("../src/token/key.ts")).tokenKeyId(
      { apiUrl: served.url, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
      OFFICE,
    ),
    {
      accessToken: second.accessToken,
      issuedAt: time,
      expiresAt: time + 3_600_000,
      usableUntil: time + 3_600_000,
    },
  );
  time += 31_000;
  await tokens.invalidate(OFFICE, third.accessToken);
  assert.notEqual((await tokens.getToken(OFFICE)).accessToken, second.accessToken);
  assert.equal(served.simulator.counters.tokenRequests, 4);
});

Deno.test("a flood of 5,000 distinct offices: bounded entries, token requests within the new-office budget", async () => {
  await using served = await serveSimulator();
  const { tokens } = manager(served, {
    maxOffices: 100,
    newOfficeBurst: 50,
    newOfficesPerSecond: 0,
  });
  const warm = await tokens.getToken(WARM);
  const codes = new Map<string, number>();
  for (let i = 0; i < 5_000; i++) {
    const code = await tokens.getToken(office(i)).then(() => "ok", (e) => codeOf(e) ?? "other");
    codes.set(code, (codes.get(code) ?? 0) + 1);
    if (i % 100 === 0) {
      // A caller of an office already served is not harmed by the flood.
      assert.equal((await tokens.getToken(WARM)).accessToken, warm.accessToken);
    }
  }
  assert.ok(tokens.officeCount <= 100, `${tokens.officeCount} entries`);
  const counters = served.simulator.counters;
  assert.equal(counters.tokenRequests, 1 + 49, "the warm office, then the burst");
  assert.equal(counters.tokenRequestsByOffice[WARM], 1);
  assert.equal(codes.get("ok"), 49);
  assert.equal(codes.get("rate_limited"), 5_000 - 49);
  await tokens.whenIdle();
});

Deno.test("a new office refused by the budget costs one store read, no lease and no request", async () => {
  await using served = await serveSimulator();
  const inner = new MemoryTokenStore();
  const calls: string[] = [];
  const store: TokenStore = {
    read: (id) => (calls.push("read"), inner.read(id)),
    writeToken: (id, token) => (calls.push("writeToken"), inner.writeToken(id, token)),
    deleteToken: (id, token) => (calls.push("deleteToken"), inner.deleteToken(id, token)),
    writeFailure: (id, failure) => (calls.push("writeFailure"), inner.writeFailure(id, failure)),
    acquireLease: (
      id,
      owner,
      ttl,
    ) => (calls.push("acquireLease"), inner.acquireLease(id, owner, ttl)),
    releaseLease: (id, owner) => (calls.push("releaseLease"), inner.releaseLease(id, owner)),
  };
  const { tokens } = manager(served, { store, newOfficeBurst: 1, newOfficesPerSecond: 0 });
  await tokens.getToken(office(0));
  calls.length = 0;
  for (let i = 1; i <= 20; i++) {
    await assert.rejects(
      tokens.getToken(office(i)),
      (e: AqcError) => e.code === "rate_limited" && e.retryAfterSeconds !== undefined,
    );
  }
  assert.deepEqual(calls, Array(20).fill("read"));
  assert.equal(served.simulator.counters.tokenRequests, 1);
  await tokens.whenIdle();
});

Deno.test("20 callers of cold offices against a 503 token endpoint: the circuit breaker bounds token requests", async () => {
  await using served = await serveSimulator();
  const { tokens } = manager(served, { retryDeadlineMs: 4_000 });
  const warm = await tokens.getToken(WARM);
  served.simulator.configure({ tokenFailure: { mode: "status", status: 503 } });
  const before = served.simulator.counters.tokenRequests;
  const settled = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => tokens.getToken(office(i))),
  );
  const spent = served.simulator.counters.tokenRequests - before;
  assert.ok(
    settled.every((r) =>
      r.status === "rejected" && codeOf(r.reason) === "token_endpoint_unavailable"
    ),
  );
  // 20 first attempts, then one probe per ~2 s open period inside the 4 s deadline.
  assert.ok(spent <= 20 + 4, `${spent} token requests`);
  // Stale-if-error: the cached token keeps being served while the circuit is open.
  assert.equal((await tokens.getToken(WARM)).accessToken, warm.accessToken);
  console.log(`503 amplification: 20 callers -> ${spent} token requests`);
  await tokens.whenIdle();
});

Deno.test("a 429 with Retry-After stops token requests for every office of the client", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "rate_limited", retryAfterSeconds: 30 } },
  });
  const { tokens } = manager(served);
  await assert.rejects(tokens.getToken(OFFICE), (e) => codeOf(e) === "rate_limited");
  for (let i = 0; i < 10; i++) {
    await assert.rejects(
      tokens.getToken(office(i)),
      (e: AqcError) => e.code === "rate_limited" && (e.retryAfterSeconds ?? 0) >= 29,
    );
  }
  assert.equal(served.simulator.counters.tokenRequests, 1);
  await tokens.whenIdle();
});

Deno.test("an open circuit is shared through the store: another isolate sends no token request", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "status", status: 503, headers: { "retry-after": "20" } } },
  });
  const store = new MemoryTokenStore();
  const a = manager(served, { store }).tokens;
  const b = manager(served, { store }).tokens;
  await assert.rejects(a.getToken(OFFICE), (e) => codeOf(e) === "token_endpoint_unavailable");
  await a.whenIdle();
  assert.equal(served.simulator.counters.tokenRequests, 1);
  await assert.rejects(
    b.getToken(WARM),
    (e: AqcError) => e.code === "token_endpoint_unavailable" && (e.retryAfterSeconds ?? 0) >= 19,
  );
  assert.equal(served.simulator.counters.tokenRequests, 1, "b asked nobody");
  await b.whenIdle();
});
