/**
 * Callers that hang up before AQC answers: their idempotent upstream calls are abandoned,
 * measured through the simulator's in-flight counter, on `deno serve src/main.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { serveMain } from "./helpers/deno_serve.ts";

const OFFICE = "NCE1A0955";
const CALLERS = 200;

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

Deno.test("200 callers hanging up at 0.5 s abandon their GETs; POSTs run to completion", async () => {
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const gateway = await serveMain({
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  });
  try {
    const auth = { authorization: `Bearer ${key}` };
    const warm = await fetch(`${gateway.url}/aqc/${OFFICE}/v1/echo/warm`, { headers: auth });
    await warm.body?.cancel();
    served.simulator.configure({ apiLatencyMs: 20_000 });

    const hangUp = async (method: string, count: number): Promise<number> => {
      const callers = Array.from({ length: count }, () => new AbortController());
      const calls = callers.map((caller) =>
        fetch(`${gateway.url}/aqc/${OFFICE}/v1/echo/slow`, {
          method,
          headers: auth,
          signal: caller.signal,
          ...(method === "POST" ? { body: "{}" } : {}),
        }).then((r) => r.body?.cancel(), () => undefined)
      );
      await waitFor(() => served.simulator.counters.apiRequestsInFlight >= count, 10_000);
      const reached = served.simulator.counters.apiRequestsInFlight;
      await new Promise((r) => setTimeout(r, 500));
      for (const caller of callers) caller.abort();
      await Promise.all(calls);
      return reached;
    };

    const reached = await hangUp("GET", CALLERS);
    assert.equal(reached, CALLERS, "every GET reached AQC before its caller left");
    await waitFor(() => served.simulator.counters.apiRequestsInFlight === 0, 5_000);
    const left = served.simulator.counters.apiRequestsInFlight;
    console.log(`GET: ${CALLERS} callers hung up at 0.5 s → ${left} upstream calls in flight`);
    assert.equal(left, 0, "every abandoned GET was cancelled upstream");

    // A POST is not abandoned: AQC's side of it is never cut at an unknown point.
    await hangUp("POST", 5);
    await new Promise((r) => setTimeout(r, 500));
    const posts = served.simulator.counters.apiRequestsInFlight;
    console.log(`POST: 5 callers hung up → ${posts} upstream calls still in flight`);
    assert.equal(posts, 5);
    served.simulator.releasePending();

    // Successful answers afterwards: untouched by the signal the gateway listened to.
    served.simulator.configure({ apiLatencyMs: 0 });
    for (let i = 0; i < 5; i++) {
      const response = await fetch(
        `${gateway.url}/aqc/${OFFICE}/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1`,
        {
          headers: auth,
        },
      );
      assert.equal(response.status, 200);
      assert.ok((await response.json()).data.length > 0);
    }
    assert.doesNotMatch(gateway.output(), /internal_error|"level":"error"/);
    // deno.json opts in to `no-legacy-abort`: request.signal aborts only on a hang-up, and
    // Deno prints no legacy-abort warning.
    assert.doesNotMatch(gateway.output(), /legacy behavior/);
  } finally {
    await gateway.stop();
  }
});
