/**
 * Stale-if-error needs a background refresh that lands before the cached token runs out.
 * After a few failed background refreshes in a row (some cost no request at all: the
 * breaker open, a peer's failure standing in L2 — seen in resilience_token_test under
 * load) the plain exponential backoff put the next attempt past `usableUntil`, so a fault
 * that had ended left callers to block on the endpoint, or to meet the standing failure
 * (502), once the token ran out. Deterministic: injected clock, worst-case jitter.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryTokenStore, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

Deno.test("failed background refreshes keep trying before the cached token runs out", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  const now = (): number => time;
  await using served = await serveSimulator({ now, knobs: { tokenLifetimeSeconds: 20 } });
  const sim = served.simulator;
  let faultUntil = 0;
  let faulted = 0;
  sim.configure({
    tokenResponder: () => {
      if (now() >= faultUntil) return undefined;
      faulted++;
      return new Response('{"access_token":"abc","token_type":"Bearer","expires', {
        headers: { "content-type": "application/json" },
      });
    },
  });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store: new MemoryTokenStore({ now }),
    now,
    // Worst case for the backoff's jitter: always the longest pause.
    random: () => 0.999,
    refreshAheadSeconds: 10,
    refreshJitterSeconds: 0,
    expirySkewSeconds: 1,
  });
  const first = await tokens.getToken(OFFICE);
  await tokens.whenIdle();
  assert.equal(first.usableUntil, first.expiresAt - 1_000);
  // Malformed answers from the first refresh on, for 6.5 s: three background attempts
  // fail (at +10 s, +12 s, +16 s with the old 2 s, 4 s, 8 s backoff), and the fault is
  // over 2.5 s before the cached token's end.
  const refreshAt = first.expiresAt - 10_000;
  faultUntil = refreshAt + 6_500;
  let blockedAt: number | undefined;
  let renewed: number | undefined;
  for (time = refreshAt; time < first.usableUntil; time += 100) {
    const token = await tokens.getToken(OFFICE);
    await tokens.whenIdle();
    // Served from L1 all along: no caller waited for a token.
    if (token.source !== "l1") blockedAt ??= time;
    if (token.accessToken !== first.accessToken) renewed ??= time;
  }
  assert.ok(faulted >= 2, `the fault was met ${faulted} times`);
  assert.equal(
    blockedAt,
    undefined,
    `a caller blocked on the endpoint at +${blockedAt! - refreshAt} ms`,
  );
  assert.ok(
    renewed !== undefined,
    `no background refresh landed in the ${
      first.usableUntil - faultUntil
    } ms between the fault's end and usableUntil`,
  );
  // And the token requests stayed bounded while the fault lasted.
  const requests = sim.counters.tokenLog.filter((e) => e.at >= refreshAt && e.at < faultUntil);
  assert.ok(requests.length <= 5, `${requests.length} token requests during the fault`);
});
