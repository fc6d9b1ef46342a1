/**
 * REDTEAM: the per-office eviction window (`evictionWindowSeconds`) and the list of refused
 * tokens live in the office's LRU entry. Office ids refused by the new-office budget still
 * get an entry, so a caller can push a victim's entry out of the table with `maxOffices`
 * distinct ids that cost no token request, and the victim's next eviction is honoured
 * again: one token request per flush instead of one per window.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const VICTIM = "NCE1A0955";
const office = (n: number): string => `PAR${String(n).padStart(6, "0")}`;

Deno.test("budget-refused office ids cannot flush a victim's eviction window out of the table", async () => {
  await using served = await serveSimulator();
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    maxOffices: 20,
    newOfficeBurst: 2,
    newOfficesPerSecond: 0,
    evictionWindowSeconds: 30,
    refreshJitterSeconds: 0,
  });
  let next = 0;
  const victimRefusals: string[] = [];
  for (let cycle = 0; cycle < 5; cycle++) {
    let token;
    try {
      token = await tokens.getToken(VICTIM);
    } catch (error) {
      victimRefusals.push(error instanceof AqcError ? error.code : String(error));
      continue;
    }
    await tokens.invalidate(VICTIM, token.accessToken);
    // The flood: distinct ids, each refused by the (empty) new-office budget.
    for (let i = 0; i < 25; i++) {
      await tokens.getToken(office(next++)).catch((e) => {
        if (!(e instanceof AqcError && e.code === "rate_limited")) throw e;
      });
    }
  }
  await tokens.whenIdle();
  const victim = served.simulator.counters.tokenRequestsByOffice[VICTIM] ?? 0;
  // Within one 30 s window: the first token and one replacement after the one eviction.
  assert.ok(victim <= 2, `${victim} token requests for the victim within one window`);
  // The victim held a token: it is not a new office, and the flood must not make it one.
  assert.deepEqual(victimRefusals, [], "the victim's callers were refused");
  assert.ok(tokens.officeCount <= 20, `${tokens.officeCount} entries`);
});
