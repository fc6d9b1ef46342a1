/**
 * The proxy route's warm-caller fast path (a key verified before skips bearerAuth and the
 * body-limit layer) must refuse exactly what bearerAuth and bodyLimit refuse: every
 * request below is sent after the key was verified once, so it takes the fast path
 * whenever its `Authorization` parses like a remembered key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { serveMain } from "./helpers/deno_serve.ts";

const OFFICE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

Deno.test("a warm gateway key is held to the same auth, office and body rules", async () => {
  await using served = await serveSimulator();
  const narrow = await generateGatewayKey("narrow", [OFFICE]);
  const gateway = await serveMain({
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([narrow.entry]),
    AQC_MAX_BODY_BYTES: "64",
  });
  try {
    const call = async (
      authorization: string,
      path = `/aqc/${OFFICE}${SEARCH}`,
      init: RequestInit = {},
    ): Promise<number> => {
      const response = await fetch(`${gateway.url}${path}`, {
        ...init,
        headers: { authorization, ...init.headers as Record<string, string> },
      });
      await response.body?.cancel();
      return response.status;
    };
    // Verified once: from now on the key is remembered.
    assert.equal(await call(`Bearer ${narrow.key}`), 200);
    assert.equal(await call(`bearer ${narrow.key}`), 200, "scheme is case-insensitive");
    assert.equal(await call(`Bearer    ${narrow.key}`), 200, "extra spaces are trimmed");
    assert.equal(await call(`Bearer ${narrow.key}x`), 401, "a longer value is another key");
    assert.equal(await call(`Bearer ${narrow.key.slice(0, -1)}`), 401, "a prefix is not the key");
    assert.equal(await call(`Basic ${narrow.key}`), 401, "another scheme");
    assert.equal(await call(`Bearerx${narrow.key}`), 401, "no space after the scheme");
    assert.equal(await call(`Token ${narrow.key}`), 401);
    assert.equal(await call(`Bearex ${narrow.key}`), 401, "a scheme that only starts alike");
    assert.equal(await call(`Bearer ${narrow.key}`, `/aqc/OTHER1234${SEARCH}`), 403);
    // Body limit: declared too long, and streamed (no Content-Length) too long.
    const pricing = `/aqc/${OFFICE}/v1/shopping/flight-offers/pricing`;
    assert.equal(
      await call(`Bearer ${narrow.key}`, pricing, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "x".repeat(65),
      }),
      413,
    );
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("y".repeat(40)));
        controller.enqueue(new TextEncoder().encode("y".repeat(40)));
        controller.close();
      },
    });
    assert.equal(
      await call(`Bearer ${narrow.key}`, pricing, { method: "POST", body: stream }),
      413,
    );
    assert.notEqual(
      await call(`Bearer ${narrow.key}`, pricing, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
      413,
      "a body within the limit passes",
    );
  } finally {
    await gateway.stop();
  }
});
