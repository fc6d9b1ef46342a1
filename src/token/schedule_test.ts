import assert from "../../tests/helpers/assert.ts";
import {
  backgroundBackoffMs,
  backgroundRetryMs,
  peerDeferMs,
  peerPollPauseMs,
  type ScheduleOptions,
  scheduleToken,
} from "./schedule.ts";

const MIN = 60_000;
const policy = (random: number): ScheduleOptions => ({
  refreshAheadMs: 5 * MIN,
  skewMs: 30_000,
  jitterMs: MIN,
  random: () => random,
});
const token = (lifetimeMs: number) => ({
  issuedAt: 0,
  expiresAt: lifetimeMs,
  usableUntil: lifetimeMs,
});

Deno.test("scheduleToken: a 30 min token is refreshed 5–6 min before expiry, sent until 30 s before", () => {
  const low = scheduleToken(token(30 * MIN), policy(0));
  const high = scheduleToken(token(30 * MIN), policy(0.999999));
  assert.equal(low.usableUntil, 30 * MIN - 30_000);
  assert.equal(low.refreshAt, 25 * MIN);
  assert.ok(Math.abs(high.refreshAt - 24 * MIN) < 1);
  assert.equal(high.usableUntil, low.usableUntil);
});

Deno.test("scheduleToken: the jitter is drawn from the injected random", () => {
  const seen = new Set<number>();
  for (const r of [0, 0.25, 0.5, 0.75]) {
    seen.add(scheduleToken(token(30 * MIN), policy(r)).refreshAt);
  }
  assert.equal(seen.size, 4);
});

Deno.test("scheduleToken: short lifetimes scale the lead and cap the skew", () => {
  const s = scheduleToken(token(20_000), policy(1));
  assert.equal(s.usableUntil, 15_000, "skew capped at a quarter");
  assert.ok(s.refreshAt >= 10_000 && s.refreshAt < s.usableUntil, `refreshAt ${s.refreshAt}`);
  const zero = scheduleToken(token(0), policy(0.5));
  assert.ok(zero.refreshAt <= zero.usableUntil);
});

Deno.test("scheduleToken: a producer's earlier usableUntil is kept and refreshAt never passes it", () => {
  const s = scheduleToken({ issuedAt: 0, expiresAt: 30 * MIN, usableUntil: 10 * MIN }, policy(0));
  assert.equal(s.usableUntil, 10 * MIN);
  assert.ok(s.refreshAt <= s.usableUntil);
});

Deno.test("backgroundBackoffMs: doubles from 1 s to a 30 s cap, within the upper half", () => {
  assert.equal(backgroundBackoffMs(1, () => 0), 1_000);
  assert.equal(backgroundBackoffMs(1, () => 1), 2_000);
  assert.equal(backgroundBackoffMs(3, () => 0), 4_000);
  assert.equal(backgroundBackoffMs(50, () => 1), 30_000);
  assert.equal(backgroundBackoffMs(50, () => 0), 15_000);
});

Deno.test("peerDeferMs and peerPollPauseMs: bounded by the runway and 400 ms", () => {
  assert.equal(peerDeferMs(Infinity, () => 0), 500);
  assert.equal(peerDeferMs(Infinity, () => 1), 1_500);
  assert.equal(peerDeferMs(400, () => 1), 200);
  assert.equal(peerDeferMs(10, () => 1), 50);
  assert.deepEqual([0, 1, 2, 3, 4, 9].map((n) => peerPollPauseMs(n, () => 1)), [
    25,
    50,
    100,
    200,
    400,
    400,
  ]);
  assert.equal(peerPollPauseMs(0, () => 0), 12.5);
});

Deno.test("backgroundRetryMs: the backoff, but at most half the runway (at least 250 ms)", () => {
  // Plenty of runway: the plain backoff.
  assert.equal(backgroundRetryMs(3, 20 * MIN, () => 1), 8_000);
  assert.equal(backgroundRetryMs(1, Infinity, () => 0), 1_000);
  // 6 s left: the 8–16 s of a fourth failure become 3 s.
  assert.equal(backgroundRetryMs(4, 6_000, () => 0), 3_000);
  // Near the end, and past it: the floor.
  assert.equal(backgroundRetryMs(5, 300, () => 1), 250);
  assert.equal(backgroundRetryMs(5, -1_000, () => 1), 250);
  // Attempts close in on the end: every pause leaves the next one before usableUntil.
  let runway = 9_000;
  let attempts = 0;
  for (let failures = 1; runway > 250; failures++, attempts++) {
    runway -= backgroundRetryMs(failures, runway, () => 1);
  }
  assert.ok(attempts <= 8, `${attempts} attempts`);
});
