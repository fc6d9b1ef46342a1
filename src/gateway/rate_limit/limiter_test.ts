import assert from "../../../tests/helpers/assert.ts";
import { MAX_LOCAL_WINDOWS, RateLimiter, rateLimitHeaders } from "./limiter.ts";
import { OpsRedis } from "../shared/ops_redis.ts";

const LIMIT = { requests: 3, windowSeconds: 10, perOffice: false };

Deno.test("limiter: a fixed window per key, per office when asked, headers as the IETF draft", async () => {
  let now = 0;
  const limiter = new RateLimiter({ scope: "s", now: () => now });
  const taken = [];
  for (let i = 0; i < 4; i++) taken.push(await limiter.take("web", "NCE1A0955", LIMIT));
  assert.deepEqual(taken.map((d) => d.allowed), [true, true, true, false]);
  assert.deepEqual(taken.map((d) => d.remaining), [2, 1, 0, 0]);
  assert.equal((await limiter.take("web", "DELAI08AA", LIMIT)).allowed, false, "one window");
  const perOffice = { ...LIMIT, perOffice: true };
  assert.equal((await limiter.take("web", "DELAI08AA", perOffice)).allowed, true);
  now += 7_500;
  const late = await limiter.take("web", "NCE1A0955", LIMIT);
  assert.equal(late.resetSeconds, 3);
  assert.deepEqual(rateLimitHeaders(late), [
    ["ratelimit-policy", '"caller";q=3;w=10'],
    ["ratelimit", '"caller";r=0;t=3'],
  ]);
  now += 2_500;
  assert.equal((await limiter.take("web", "NCE1A0955", LIMIT)).allowed, true, "a new window");
});

Deno.test("limiter: a failing or garbage-answering Redis falls back to the local count", async () => {
  for (
    const client of [
      { eval: () => Promise.reject(new Error("down")) },
      { eval: () => Promise.resolve(["x", -5]) },
      { eval: () => new Promise<unknown>(() => {}) },
    ]
  ) {
    const redis = new OpsRedis(client, { timeoutMs: 20 });
    const limiter = new RateLimiter({ scope: "s", redis });
    const first = await limiter.take("web", "NCE1A0955", LIMIT);
    assert.equal(first.counted, "local");
    assert.equal(first.remaining, 2);
    assert.ok(redis.paused, "no Redis call for a while after a failure");
  }
});

Deno.test("limiter: memory is bounded whatever offices a caller sprays", async () => {
  const limiter = new RateLimiter({ scope: "s" });
  const perOffice = { ...LIMIT, perOffice: true };
  for (let i = 0; i < MAX_LOCAL_WINDOWS * 2; i++) {
    await limiter.take("web", `O${i}`, perOffice);
  }
  // Observable only through behaviour: the limiter still answers and counts.
  assert.equal((await limiter.take("web", "NCE1A0955", perOffice)).remaining, 2);
});
