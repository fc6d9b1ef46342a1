import assert from "../../tests/helpers/assert.ts";
import { AqcError } from "../errors.ts";
import { CircuitBreaker } from "./breaker.ts";
import { TokenBucket } from "./budget.ts";

const e503 = new AqcError("token_endpoint_unavailable", "Token endpoint answered 503", {
  status: 503,
});

Deno.test("CircuitBreaker: opens after the threshold, half-opens for one probe, closes on success", () => {
  let t = 0;
  const b = new CircuitBreaker({ threshold: 3, openMs: 2_000, now: () => t, random: () => 0.5 });
  assert.equal(b.failure(e503), false);
  assert.equal(b.failure(e503), false);
  assert.ok(b.admit().ok, "still closed");
  assert.equal(b.failure(e503), true);
  const shut = b.admit();
  assert.ok(!shut.ok && shut.waitMs === 2_000 && shut.error.code === "token_endpoint_unavailable");
  assert.equal(shut.ok ? 0 : shut.error.retryAfterSeconds, 2);
  t += 2_000;
  assert.ok(b.admit().ok, "one probe");
  assert.ok(!b.admit().ok, "a second caller waits for the probe");
  b.success();
  assert.ok(b.admit().ok && b.admit().ok && !b.tripped);
});

Deno.test("CircuitBreaker: a failed probe opens it again; Retry-After opens it at once for that long", () => {
  let t = 0;
  const b = new CircuitBreaker({ threshold: 5, openMs: 1_000, now: () => t, random: () => 0.5 });
  const limited = new AqcError("rate_limited", "Token endpoint answered 429", {
    retryAfterSeconds: 7,
  });
  assert.equal(b.failure(limited), true, "first failure, Retry-After");
  const shut = b.admit();
  assert.ok(!shut.ok && shut.waitMs === 7_000 && shut.error.code === "rate_limited");
  t += 7_000;
  assert.ok(b.admit().ok);
  assert.equal(b.failure(e503), true, "a failed probe re-opens");
  assert.ok(!b.admit().ok);
});

Deno.test("CircuitBreaker: an answer that is not a 429/5xx closes it; adopt only extends", () => {
  let t = 0;
  const b = new CircuitBreaker({ threshold: 1, now: () => t });
  b.failure(e503);
  assert.ok(b.tripped);
  b.failure(new AqcError("credentials_rejected", "Token endpoint rejected the client credentials"));
  assert.ok(!b.tripped && b.admit().ok);
  b.adopt(5_000, "token_endpoint_unavailable");
  b.adopt(1_000, "token_endpoint_unavailable");
  b.adopt(60_000, "credentials_rejected");
  assert.equal(b.openUntil, 5_000);
  t = 5_000;
  assert.ok(b.admit().ok);
});

Deno.test("TokenBucket: burst, then refill at the rate; 0 never refills", () => {
  let t = 0;
  const bucket = new TokenBucket(3, 2, () => t);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [0, 0, 0]);
  assert.equal(bucket.take(), 500);
  t += 500;
  assert.equal(bucket.take(), 0);
  t += 60_000;
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take() > 0], [
    0,
    0,
    0,
    true,
  ]);
  const never = new TokenBucket(1, 0, () => t);
  never.take();
  assert.equal(never.take(), Infinity);
});

Deno.test("CircuitBreaker: a huge Retry-After or shared record is capped at maxOpenMs", () => {
  const t = 0;
  const b = new CircuitBreaker({ maxOpenMs: 300_000, now: () => t });
  b.failure(
    new AqcError("rate_limited", "Token endpoint answered 429", { retryAfterSeconds: 3600 }),
  );
  assert.equal(b.openUntil, 300_000);
  const c = new CircuitBreaker({ maxOpenMs: 300_000, now: () => t });
  c.adopt(86_400_000, "token_endpoint_unavailable");
  assert.equal(c.openUntil, 300_000);
});
