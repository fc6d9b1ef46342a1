import assert from "../../../tests/helpers/assert.ts";
import { MAX_STATS_OFFICES, RequestStats, STATS_MINUTES } from "./stats.ts";

Deno.test("stats: one-minute buckets, old minutes forgotten, offices bounded", () => {
  let now = 10 * 60_000;
  const stats = new RequestStats(() => now);
  for (const status of [200, 200, 503, 429]) stats.record("NCE1A0955", status);
  now += 60_000;
  stats.record("NCE1A0955", 200);
  const minutes = stats.minutes("NCE1A0955");
  assert.equal(minutes.length, STATS_MINUTES);
  assert.deepEqual(minutes.at(-2), { at: 10 * 60_000, requests: 4, errors: 1, limited: 1 });
  assert.deepEqual(minutes.at(-1), { at: 11 * 60_000, requests: 1, errors: 0, limited: 0 });
  now += STATS_MINUTES * 60_000; // every slot is now stale
  assert.equal(stats.minutes("NCE1A0955").reduce((sum, m) => sum + m.requests, 0), 0);
  for (let i = 0; i < MAX_STATS_OFFICES + 50; i++) stats.record(`O${i}`, 200);
  assert.equal(stats.offices().length, MAX_STATS_OFFICES);
  assert.ok(!stats.offices().includes("NCE1A0955"), "least recently seen dropped");
});
