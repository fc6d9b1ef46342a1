/**
 * `deno serve src/main.ts` under an `--allow-env` that lists only the variables it reads: it
 * used to call `Deno.env.toObject()`, which needs the whole environment, and died at start-up.
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey, generateTokenKey } from "../src/gateway/mod.ts";
import { runMainExpectingExit, serveMain } from "./helpers/deno_serve.ts";
import { startUpstash } from "./helpers/redis.ts";

const SEARCH =
  "/aqc/NCE1A0955/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

Deno.test("main.ts serves with --allow-env narrowed to the variables it reads", async () => {
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const env = {
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  };
  await using main = await serveMain(env, { allowEnv: Object.keys(env) });
  const response = await fetch(`${main.url}${SEARCH}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(response.status, 200, await response.clone().text());
  assert.ok((await response.json()).data.length > 0);
  assert.equal(served.simulator.counters.tokenRequests, 1);
  assert.ok(!main.output().includes("NotCapable"), main.output());
});

Deno.test("main.ts with Upstash under the --allow-env the README documents", async () => {
  await using served = await serveSimulator();
  await using upstash = await startUpstash();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const env = {
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: upstash.token,
    AQC_TOKEN_KEY: generateTokenKey(),
  };
  // Only its own variables: the gateway's Upstash client reads no environment (@upstash/redis
  // 1.39 also read UPSTASH_CONSOLE, VERCEL and AWS_REGION when its client was built).
  await using main = await serveMain(env, { allowEnv: Object.keys(env) });
  const response = await fetch(`${main.url}${SEARCH}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(response.status, 200, await response.clone().text());
  await response.body?.cancel();
  const ready = await fetch(`${main.url}/readyz`);
  assert.equal((await ready.json()).store, "upstash");
  assert.ok(!main.output().includes("NotCapable"), main.output());
});

Deno.test("main.ts names a required variable that --allow-env does not cover", async () => {
  const { entry } = await generateGatewayKey("web", ["*"]);
  const env = {
    AQC_API_URL: "https://test.travel.api.amadeus.com",
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  };
  const exited = await runMainExpectingExit(env, {
    allowEnv: ["AQC_API_URL", "AQC_CLIENT_ID", "AQC_GATEWAY_KEYS"],
  });
  assert.equal(exited.code, 1, exited.output);
  assert.match(exited.output, /AQC_CLIENT_SECRET is required/);
  assert.match(exited.output, /--allow-env does not cover AQC_CLIENT_SECRET/);
  assert.ok(!exited.output.includes(DEFAULT_CLIENT_SECRET));
});
