/**
 * Gateway key verification: hashed and compared in constant time once, then remembered.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import { GatewayKeyVerifier } from "../src/gateway/caller_auth.ts";

async function keys() {
  const web = await generateGatewayKey("web", ["*"]);
  const ops = await generateGatewayKey("ops", ["NCE1A0955"]);
  const config = loadConfig({
    AQC_API_URL: "https://test.travel.api.amadeus.com",
    AQC_CLIENT_ID: "id",
    AQC_CLIENT_SECRET: "secret",
    AQC_GATEWAY_KEYS: JSON.stringify([web.entry, ops.entry]),
  });
  return { web: web.key, ops: ops.key, configured: config.gatewayKeys };
}

Deno.test("a valid key is found by hash, then remembered and answered without hashing", async () => {
  const { web, ops, configured } = await keys();
  const verifier = new GatewayKeyVerifier(configured);
  const first = verifier.verify(web);
  assert.ok(first instanceof Promise, "first sight: hashed");
  assert.equal((await first)?.id, "web");
  const again = verifier.verify(web);
  assert.ok(!(again instanceof Promise), "remembered: answered at once");
  assert.equal(again?.id, "web");
  assert.equal((await verifier.verify(ops))?.id, "ops");
});

Deno.test("wrong keys are never remembered and always hashed", async () => {
  const { web, configured } = await keys();
  const verifier = new GatewayKeyVerifier(configured);
  for (const wrong of [web.slice(0, -1), `${web}x`, "", web.toUpperCase()]) {
    for (let i = 0; i < 2; i++) {
      const answer = verifier.verify(wrong);
      assert.ok(answer instanceof Promise);
      assert.equal(await answer, undefined);
    }
  }
});
