/**
 * createAqcFetch upstream timeouts: shared timeout signals still give every call at least
 * its full timeout, and never much more.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, createAqcFetch, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

Deno.test("every call gets its full timeout, also right after another call timed out", async () => {
  await using served = await serveSimulator({ knobs: { apiFailure: { mode: "hang" } } });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  await tokens.getToken(OFFICE);
  const aqc = createAqcFetch({ tokens, timeoutMs: 200 });
  const timed = async (delayMs: number) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const started = performance.now();
    const error = await aqc(OFFICE, "/v1/echo/slow").then(() => undefined, (e) => e);
    assert.ok(error instanceof AqcError && error.code === "upstream_timeout", String(error));
    return performance.now() - started;
  };
  // Calls starting together, a little later, and just after the first ones timed out.
  const waits = await Promise.all([timed(0), timed(0), timed(5), timed(60), timed(205)]);
  for (const ms of waits) {
    assert.ok(ms >= 195, `timed out after ${ms.toFixed(0)} ms, before its 200 ms`);
    // Timeout + grain (10 ms here) + scheduling slack.
    assert.ok(ms < 400, `timed out after ${ms.toFixed(0)} ms`);
  }
});

Deno.test("with signal and settled: the timeout and the caller's abort both still end the call", async () => {
  await using served = await serveSimulator({ knobs: { apiFailure: { mode: "hang" } } });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  const aqc = createAqcFetch({ tokens, timeoutMs: 200 });
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const caller = new AbortController();
  await assert.rejects(
    aqc("NCE1A0955", "/v1/echo/x", { signal: caller.signal, settled }),
    (e) => e instanceof AqcError && e.code === "upstream_timeout",
  );
  const leaving = aqc("NCE1A0955", "/v1/echo/y", { signal: caller.signal, settled });
  while (served.simulator.counters.apiRequests < 2) {
    await new Promise((r) => setTimeout(r, 10));
  }
  caller.abort(new Error("caller left"));
  await assert.rejects(leaving, /caller left/);
  settle();
  // An already-aborted signal never sends.
  await assert.rejects(
    aqc("NCE1A0955", "/v1/echo/z", { signal: caller.signal, settled }),
    /caller left/,
  );
  while (served.simulator.counters.apiRequestsInFlight > 0) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(served.simulator.counters.apiRequests, 2);
});
