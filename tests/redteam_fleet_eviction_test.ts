/**
 * REDTEAM: the eviction window is per isolate (`evictedAt` in L1). The brief and
 * issue #11 ask for "never twice for the same office within a short window after a fresh
 * token was minted"; across a fleet, every isolate that has not evicted yet honours one
 * eviction of the current shared token, so N isolates (e.g. each new Deno Deploy isolate)
 * cost N token requests per window under a 401 flood.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryTokenStore, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

Deno.test({
  // REDTEAM: fleet-wide eviction window. Needs shared state (e.g. the minting time of the
  // replacement token, or an "evicted at" record next to the token in L2): not a small fix.
  ignore: true,
  name:
    "5 isolates evicting the office's current token within one window cost at most 2 token requests",
  fn: async () => {
    await using served = await serveSimulator();
    const store = new MemoryTokenStore();
    const isolate = (): TokenManager =>
      new TokenManager({
        credentials: {
          apiUrl: served.url,
          clientId: DEFAULT_CLIENT_ID,
          clientSecret: DEFAULT_CLIENT_SECRET,
        },
        store,
        evictionWindowSeconds: 30,
      });
    for (let i = 0; i < 5; i++) {
      // A new isolate adopts the current token from L2, then a caller provokes a 401.
      const tokens = isolate();
      const token = await tokens.getToken(OFFICE);
      await tokens.invalidate(OFFICE, token.accessToken);
      await tokens.getToken(OFFICE);
      await tokens.whenIdle();
    }
    const requests = served.simulator.counters.tokenRequestsByOffice[OFFICE];
    assert.ok(requests <= 2, `${requests} token requests within one eviction window`);
  },
});
