import assert from "../../tests/helpers/assert.ts";
import { AqcError } from "../errors.ts";
import { CircuitBreaker } from "./breaker.ts";
import { type AttemptFailure, requestWithRetries, type RetryOptions } from "./retry.ts";

/** Waits no test here needs; more means a retry loop that ignores its deadline. */
const MAX_WAITS = 1_000;

/**
 * A virtual clock whose delay advances it: no real time passes. Its delay rejects past
 * {@linkcode MAX_WAITS}, so a loop that never stops fails its test by name instead of
 * spinning until the process runs out of memory.
 */
function virtual(): { clock: () => number; delay: (ms: number) => Promise<void>; waits: number[] } {
  let t = 0;
  const waits: number[] = [];
  return {
    clock: () => t,
    delay: (ms) => {
      if (waits.length >= MAX_WAITS) return Promise.reject(new Error("Retry loop never stopped"));
      waits.push(ms);
      t += ms;
      return Promise.resolve();
    },
    waits,
  };
}

const unavailable = (retryAfterSeconds?: number): AqcError =>
  new AqcError("token_endpoint_unavailable", "Token endpoint answered 503", {
    status: 503,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });

function options(v: ReturnType<typeof virtual>, extra: Partial<RetryOptions> = {}): RetryOptions {
  return {
    deadlineMs: 10_000,
    attemptTimeoutMs: 5_000,
    baseDelayMs: 200,
    maxDelayMs: 2_000,
    random: () => 1,
    clock: v.clock,
    delay: v.delay,
    ...extra,
  };
}

Deno.test("requestWithRetries: backoff doubles to its cap and stops before the deadline", async () => {
  const v = virtual();
  const failures: AttemptFailure[] = [];
  let calls = 0;
  await assert.rejects(
    requestWithRetries(() => {
      calls++;
      return Promise.reject(unavailable());
    }, options(v, { onFailure: (f) => failures.push(f) })),
    (e: AqcError) => e.code === "token_endpoint_unavailable",
  );
  assert.deepEqual(v.waits.slice(0, 5), [200, 400, 800, 1_600, 2_000]);
  assert.ok(v.clock() < 10_000, "never waits past the deadline");
  assert.equal(calls, failures.length);
  assert.equal(failures.at(-1)?.willRetry, false);
  assert.ok(failures.slice(0, -1).every((f) => f.willRetry && f.delayMs !== undefined));
});

Deno.test("requestWithRetries: full jitter comes from the injected random", async () => {
  const v = virtual();
  let calls = 0;
  const result = await requestWithRetries(() => {
    return ++calls < 3 ? Promise.reject(unavailable()) : Promise.resolve("ok");
  }, options(v, { random: () => 0.5 }));
  assert.deepEqual(v.waits, [100, 200]);
  assert.equal(result.attempts, 3);
  assert.equal(result.value, "ok");
});

Deno.test("requestWithRetries: Retry-After is waited for, or ends the loop when beyond the deadline", async () => {
  const v = virtual();
  let calls = 0;
  await requestWithRetries(() => {
    return ++calls === 1 ? Promise.reject(unavailable(3)) : Promise.resolve(1);
  }, options(v));
  assert.deepEqual(v.waits, [3_000]);
  const w = virtual();
  await assert.rejects(
    requestWithRetries(() => Promise.reject(unavailable(30)), options(w)),
    (e: AqcError) => e.retryAfterSeconds === 30,
  );
  assert.deepEqual(w.waits, [], "no wait, no second attempt");
});

Deno.test("requestWithRetries: codes that are not retried fail at once; other errors pass through", async () => {
  const v = virtual();
  let calls = 0;
  await assert.rejects(
    requestWithRetries(() => {
      calls++;
      return Promise.reject(new AqcError("credentials_rejected", "Token endpoint rejected"));
    }, options(v)),
    (e: AqcError) => e.code === "credentials_rejected",
  );
  assert.equal(calls, 1);
  await assert.rejects(
    requestWithRetries(() => Promise.reject(new TypeError("boom")), options(v)),
    TypeError,
  );
});

Deno.test("requestWithRetries: each attempt's timeout is cut to what is left of the deadline", async () => {
  const v = virtual();
  const timeouts: number[] = [];
  await assert.rejects(requestWithRetries((timeoutMs) => {
    timeouts.push(timeoutMs);
    return Promise.reject(unavailable());
  }, options(v, { deadlineMs: 3_000, attemptTimeoutMs: 2_500 })));
  assert.equal(timeouts[0], 2_500);
  assert.ok(timeouts.slice(1).every((t) => t <= 3_000 - 200));
});

Deno.test("requestWithRetries: an open breaker holds every attempt and fails fast past the deadline", async () => {
  const v = virtual();
  const breaker = new CircuitBreaker({
    threshold: 2,
    openMs: 4_000,
    now: v.clock,
    random: () => 0.5,
  });
  let calls = 0;
  await assert.rejects(
    requestWithRetries(() => {
      calls++;
      return Promise.reject(unavailable());
    }, options(v, { gate: breaker })),
  );
  // 2 failures open it for 4 s; one probe per open period until the 10 s deadline.
  assert.ok(calls <= 4, `${calls} attempts`);
  const w = virtual();
  breaker.adopt(w.clock() + 60_000, "rate_limited");
  const blocked = new CircuitBreaker({ now: w.clock });
  blocked.adopt(60_000, "rate_limited");
  let sent = 0;
  await assert.rejects(
    requestWithRetries(() => {
      sent++;
      return Promise.resolve(1);
    }, options(w, { gate: blocked })),
    (e: AqcError) => e.code === "rate_limited" && (e.retryAfterSeconds ?? 0) >= 59,
  );
  assert.equal(sent, 0, "no request while open past the deadline");
});

Deno.test("requestWithRetries: no attempt after a wait with less than a tenth of its timeout left", async () => {
  // A caller whose deadline started 100 ms after the breaker opened for Retry-After 5:
  // the open period ends 50 ms before its deadline, too late for a token request.
  const v = virtual();
  const breaker = new CircuitBreaker({ now: v.clock });
  breaker.adopt(9_950, "rate_limited");
  let sent = 0;
  await assert.rejects(
    requestWithRetries(() => {
      sent++;
      return Promise.resolve(1);
    }, options(v, { gate: breaker })),
    (e: AqcError) => e.code === "rate_limited",
  );
  assert.equal(sent, 0, "no request with 50 ms left");
  assert.deepEqual(v.waits, [], "gave up at once instead of waiting out the period");
  // The same period ending 600 ms before the deadline (more than the 500 ms floor) is
  // waited for, and the attempt is sent with what is left.
  const w = virtual();
  const later = new CircuitBreaker({ now: w.clock });
  later.adopt(9_400, "rate_limited");
  const timeouts: number[] = [];
  assert.equal(
    (await requestWithRetries((timeoutMs) => {
      timeouts.push(timeoutMs);
      return Promise.resolve(1);
    }, options(w, { gate: later }))).value,
    1,
  );
  assert.deepEqual(timeouts, [600]);
});

/**
 * An attempt that answers after 600 ms (virtual): a 429 asking for `retryAfterSeconds` the
 * first time, a value after that. It records each attempt's timeout.
 */
function slow429(v: ReturnType<typeof virtual>, retryAfterSeconds: number) {
  const timeouts: number[] = [];
  const attempt = async (timeoutMs: number): Promise<number> => {
    timeouts.push(timeoutMs);
    await v.delay(600);
    if (timeouts.length > 1) return 1;
    throw new AqcError("rate_limited", "Token endpoint answered 429", {
      status: 429,
      retryAfterSeconds,
    });
  };
  return { attempt, timeouts };
}

Deno.test("requestWithRetries: a retry that would start too close to the deadline is not sent", async () => {
  // The first answer takes 600 ms and asks for Retry-After 9: a retry at 9.6 s would have
  // 400 ms of a 10 s deadline, under the 500 ms floor; the caller gets the 429 itself.
  const v = virtual();
  const nine = slow429(v, 9);
  const failures: AttemptFailure[] = [];
  await assert.rejects(
    requestWithRetries(nine.attempt, options(v, { onFailure: (f) => failures.push(f) })),
    (e: AqcError) => e.code === "rate_limited" && e.retryAfterSeconds === 9,
  );
  assert.deepEqual(nine.timeouts, [5_000], "one attempt");
  assert.equal(failures[0]?.willRetry, false);
  // With Retry-After 8 the retry starts at 8.6 s, 1.4 s before the deadline: sent.
  const w = virtual();
  const eight = slow429(w, 8);
  assert.equal((await requestWithRetries(eight.attempt, options(w))).value, 1);
  assert.equal(eight.timeouts.length, 2);
});
