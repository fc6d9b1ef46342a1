/**
 * REDTEAM: `MemoryTokenStore` (the default store, and the gateway's without Upstash) drops
 * an expired record only when that id is read again. A caller asking for ever new office
 * ids within the new-office budget (10/s by default) leaves one token behind per office
 * that is never read again: memory grew without bound although the manager's own table
 * is capped at `maxOffices`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryTokenStore, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const office = (n: number): string => `PAR${String(n).padStart(6, "0")}`;

Deno.test("records of offices nobody asks for again do not pile up in MemoryTokenStore", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  const now = (): number => time;
  await using served = await serveSimulator({ now, knobs: { tokenLifetimeSeconds: 60 } });
  const store = new MemoryTokenStore({ now });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store,
    now,
    maxOffices: 50,
    newOfficeBurst: 10_000,
    newOfficesPerSecond: 100,
  });
  let next = 0;
  // 20 rounds, each 100 new offices then 2 minutes later (every token has expired).
  for (let round = 0; round < 20; round++) {
    await Promise.all(Array.from({ length: 100 }, () => tokens.getToken(office(next++))));
    await tokens.whenIdle();
    time += 120_000;
  }
  assert.equal(served.simulator.counters.tokenRequests, 2_000);
  assert.ok(tokens.officeCount <= 50);
  // Only the last round's records (100) can still be live; everything older has expired.
  assert.ok(store.size <= 400, `${store.size} records held`);
});
