/**
 * REDTEAM: the README says "Inject `random` (and `now`) for deterministic tests", and the
 * breaker, schedule and negative caches follow the injected clock, but the new-office
 * budget refilled on the wall clock: with an injected `now`, a refused office stayed
 * refused however far that clock moved (and a test could not be deterministic).
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

Deno.test("the new-office budget refills on the manager's injected clock", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  const now = (): number => time;
  await using served = await serveSimulator({ now });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    now,
    newOfficeBurst: 1,
    newOfficesPerSecond: 1,
  });
  await tokens.getToken("PAR000001");
  await assert.rejects(
    tokens.getToken("PAR000002"),
    (e) => e instanceof AqcError && e.code === "rate_limited",
  );
  time += 2_000;
  const token = await tokens.getToken("PAR000002");
  assert.equal(token.officeId, "PAR000002");
  await tokens.whenIdle();
});
