/**
 * REDTEAM: `prewarm(officeIds: Iterable<string>)` type-checks with a plain string (a string
 * is an iterable of its characters): `prewarm("NCE1A0955")` warmed nothing and reported
 * nine `office_invalid` results for "N", "C", "E", …
 *
 * @module
 */
import assert from "node:assert/strict";
import { TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

Deno.test("prewarm with one office id as a string warms that office", async () => {
  await using served = await serveSimulator();
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  const results = await tokens.prewarm("nce1a0955");
  await tokens.whenIdle();
  assert.deepEqual(results.map((r) => [r.officeId, r.ok]), [["NCE1A0955", true]]);
  assert.equal(served.simulator.counters.tokenRequests, 1);
});
