/**
 * AQC 429s respected fleet-wide: an office AQC answered 429 for is answered locally with 429
 * and `Retry-After` until the window ends, by every isolate sharing the Upstash store.
 *
 * @module
 */
import assert from "node:assert/strict";
import { serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { MAX_HOLD_MS } from "../src/gateway/upstream_429/holds.ts";
import { bodyOf, opsEnv, opsGateway } from "./helpers/ops_gateway.ts";
import { startUpstash } from "./helpers/redis.ts";
import { sleep } from "./helpers/stack.ts";

const OFFICE = "NCE1A0955";
const OTHER = "DELAI08AA";

Deno.test("an AQC 429 holds the office in every isolate through Upstash until Retry-After ends", async () => {
  await using upstash = await startUpstash();
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const env = opsEnv(served.url, [entry], upstash, { AQC_UPSTREAM_429: "shared" });
  const a = opsGateway(env);
  const b = opsGateway(env);
  for (const gw of [a, b]) assert.equal((await gw.get(key, OFFICE)).status, 200);
  await (await b.get(key, OTHER)).body?.cancel();

  served.simulator.configure({
    apiFailure: { mode: "rate_limited", retryAfterSeconds: 4, offices: [OFFICE] },
  });
  const first = await a.get(key, OFFICE);
  assert.equal(first.status, 429);
  assert.equal((await bodyOf(first))?.errors !== undefined, true, "AQC's own 429 passes through");
  const sent = served.simulator.counters.apiRequests;

  // B last read the shared hold at its warm-up: its next request after a second reads it.
  await sleep(1_100);
  const held = await b.get(key, OFFICE);
  assert.equal(held.status, 429);
  assert.equal(held.headers.get("content-type"), "application/problem+json");
  const retryAfter = Number(held.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 3, `retry-after ${retryAfter}`);
  assert.equal((await bodyOf(held))?.code, "upstream_rate_limited");
  // And A holds it by itself; neither sends anything to AQC.
  const again = await a.get(key, OFFICE);
  assert.equal(again.status, 429);
  assert.equal((await bodyOf(again))?.code, "upstream_rate_limited");
  assert.equal(served.simulator.counters.apiRequests, sent, "no request reached AQC");

  // Other offices are not held.
  served.simulator.configure({ apiFailure: null });
  const other = await b.get(key, OTHER);
  assert.equal(other.status, 200);
  await other.body?.cancel();

  // After the window the office is served again.
  await sleep(retryAfter * 1000 + 200);
  const after = await b.get(key, OFFICE);
  assert.equal(after.status, 200);
  await after.body?.cancel();
});

Deno.test("without Upstash an isolate holds the office itself; AQC_UPSTREAM_429=pass passes every 429", async () => {
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const holding = opsGateway(opsEnv(served.url, [entry]));
  const passing = opsGateway(opsEnv(served.url, [entry], undefined, { AQC_UPSTREAM_429: "pass" }));
  served.simulator.configure({
    apiFailure: { mode: "rate_limited", retryAfterSeconds: 30, offices: [OFFICE] },
  });
  for (const gw of [holding, passing]) await (await gw.get(key, OFFICE)).body?.cancel();
  const sent = served.simulator.counters.apiRequests;
  const held = await holding.get(key, OFFICE);
  assert.equal(held.status, 429);
  assert.equal((await bodyOf(held))?.code, "upstream_rate_limited");
  assert.equal(served.simulator.counters.apiRequests, sent);
  const passed = await passing.get(key, OFFICE);
  assert.equal(passed.status, 429);
  assert.ok((await bodyOf(passed))?.errors, "AQC's body");
  assert.equal(served.simulator.counters.apiRequests, sent + 1);
});

Deno.test("a 429 with a huge, missing or garbage Retry-After holds a bounded time; Redis down is no failure", async () => {
  await using upstash = await startUpstash();
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const gw = opsGateway(opsEnv(served.url, [entry], upstash));
  const offices = ["PARAF08AA", "MUCLH08AA", OTHER];
  const values = ["999999999", "", "soon"];
  for (const [i, office] of offices.entries()) {
    served.simulator.configure({
      apiFailure: {
        mode: "status",
        status: 429,
        body: "{}",
        contentType: "application/json",
        headers: values[i] === "" ? {} : { "retry-after": values[i] },
        offices: [office],
      },
    });
    await (await gw.get(key, office)).body?.cancel();
    const held = await gw.get(key, office);
    assert.equal(held.status, 429, office);
    const seconds = Number(held.headers.get("retry-after"));
    assert.ok(seconds >= 1 && seconds <= MAX_HOLD_MS / 1000, `${office}: ${seconds}`);
    await held.body?.cancel();
  }

  // Redis gone: a 429 still holds locally, and other requests are served.
  await upstash.bridge.stop();
  served.simulator.configure({
    apiFailure: { mode: "rate_limited", retryAfterSeconds: 20, offices: [OFFICE] },
  });
  await (await gw.get(key, OFFICE)).body?.cancel();
  const held = await gw.get(key, OFFICE);
  assert.equal((await bodyOf(held))?.code, "upstream_rate_limited");
  served.simulator.configure({ apiFailure: null });
  const fine = await gw.get(key, "PARAF08AA", "/v1/reference-data/locations?keyword=NCE");
  assert.notEqual(fine.status, 500);
  await fine.body?.cancel();
});
