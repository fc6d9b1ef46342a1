/**
 * REDTEAM: `prewarm` (exempt from the new-office budget) started every office's token
 * request at once: a cron with a long `AQC_OFFICES` list sent them all in parallel (200
 * offices → 200 concurrent token requests), the burst a token endpoint rate-limits.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TokenManager } from "../src/mod.ts";

const office = (n: number): string => `PAR${String(n).padStart(6, "0")}`;

Deno.test("prewarm of 200 offices keeps at most 8 token requests in flight, and warms all of them", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    requests++;
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight--;
    return Response.json({ token_type: "Bearer", access_token: `t${requests}`, expires_in: 1799 });
  });
  try {
    const tokens = new TokenManager({
      credentials: {
        apiUrl: `http://127.0.0.1:${server.addr.port}`,
        clientId: "id",
        clientSecret: "secret",
      },
    });
    const offices = Array.from({ length: 200 }, (_, i) => office(i));
    const results = await tokens.prewarm(offices);
    await tokens.whenIdle();
    assert.equal(results.filter((r) => r.ok).length, 200);
    assert.deepEqual(results.map((r) => r.officeId), offices, "results in order");
    assert.equal(requests, 200);
    assert.ok(maxInFlight <= 8, `${maxInFlight} token requests in flight at once`);
  } finally {
    await server.shutdown();
  }
});
