/**
 * REDTEAM: with `AQC_OFFICES` listing more offices than `maxOffices` (1,000), the gateway's
 * manager could not hold them all: a prewarm of 1,200 listed offices kept 1,000, so the
 * other 200 were cold again on their next call (an L2 read each, and the new-office budget
 * once L2 has no token), although the list itself bounds memory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createTokenManager, loadConfig } from "../src/gateway/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const office = (n: number): string => `PAR${String(n).padStart(6, "0")}`;

Deno.test("the gateway's manager keeps every office AQC_OFFICES lists", async () => {
  await using served = await serveSimulator();
  const offices = Array.from({ length: 1_200 }, (_, i) => office(i));
  const config = loadConfig({
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_OFFICES: offices.join(","),
    AQC_GATEWAY_KEYS: JSON.stringify([{ id: "web", sha256: "0".repeat(64), offices: ["*"] }]),
  });
  const tokens = createTokenManager(config);
  const results = await tokens.prewarm(offices);
  await tokens.whenIdle();
  assert.equal(results.filter((r) => r.ok).length, 1_200);
  assert.equal(tokens.officeCount, 1_200);
});
