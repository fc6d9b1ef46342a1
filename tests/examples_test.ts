/**
 * The examples run as users would run them, so they cannot rot. (The consumer Worker
 * example runs in workerd in worker_test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSearchHandler } from "../examples/deno_deploy/main.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { startUpstash } from "./helpers/redis.ts";

Deno.test("examples/deno_deploy: two isolates search flights with one token request", async () => {
  await using served = await serveSimulator();
  await using upstash = await startUpstash();
  const env = {
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: upstash.token,
    AQC_TOKEN_KEY: generateTokenKey(),
  };
  const search = "http://edge.local/search?office=nce1a0955&from=NCE&to=JFK&date=2026-12-20";
  for (const handler of [createSearchHandler(env), createSearchHandler(env)]) {
    const response = await handler(new Request(search));
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.ok(body.data.length > 0);
  }
  assert.equal(served.simulator.counters.tokenRequests, 1);
  assert.equal(served.simulator.counters.apiRequests, 2);
  const bad = await createSearchHandler(env)(new Request("http://edge.local/search?office=nope"));
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).code, "office_invalid");
});

Deno.test("examples/deno_deploy: errors answer like the gateway (problemFromError)", async (t) => {
  await using served = await serveSimulator();
  const env = {
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_UPSTREAM_TIMEOUT_MS: "300",
    AQC_TOKEN_DEADLINE_MS: "300",
  };
  const search = "http://edge.local/search?office=NCE1A0955&from=NCE&to=JFK&date=2026-12-20";
  const problemOf = async (response: Response): Promise<Record<string, unknown>> => {
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const body = await response.json();
    assert.equal(body.status, response.status);
    assert.ok(!JSON.stringify(body).includes(DEFAULT_CLIENT_SECRET));
    return body;
  };

  await t.step("credentials_rejected is a 502 (the hand-made mapping said 503)", async () => {
    served.simulator.configure({ tokenFailure: { mode: "invalid_client" } });
    const response = await createSearchHandler(env)(new Request(search));
    assert.equal(response.status, 502);
    assert.equal((await problemOf(response)).code, "credentials_rejected");
    served.simulator.configure({ tokenFailure: null });
  });

  await t.step("upstream_timeout is a 504 (the hand-made mapping said 503)", async () => {
    served.simulator.configure({ apiFailure: { mode: "hang" } });
    const response = await createSearchHandler(env)(new Request(search));
    assert.equal(response.status, 504);
    assert.equal((await problemOf(response)).code, "upstream_timeout");
    served.simulator.configure({ apiFailure: null });
    served.simulator.releasePending();
  });

  await t.step("a token endpoint outage is a 503 with Retry-After", async () => {
    served.simulator.configure({ tokenFailure: { mode: "status", status: 503 } });
    const response = await createSearchHandler(env)(new Request(search));
    assert.equal(response.status, 503);
    assert.ok(Number(response.headers.get("retry-after")) >= 1);
    assert.equal((await problemOf(response)).code, "token_endpoint_unavailable");
    served.simulator.configure({ tokenFailure: null });
  });
});
