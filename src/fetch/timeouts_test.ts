import assert from "../../tests/helpers/assert.ts";
import { SharedTimeouts } from "./timeouts.ts";

Deno.test("SharedTimeouts: calls in one grain share a signal; a fired one is never handed out", async () => {
  const timeouts = new SharedTimeouts();
  const original = performance.now;
  // A clock that stands still: every call below falls inside the first grain.
  const frozen = original.call(performance);
  performance.now = () => frozen;
  try {
    const first = timeouts.signal(40);
    assert.equal(timeouts.signal(40), first, "shared within the grain");
    assert.notEqual(timeouts.signal(41), first, "one signal per timeout value");
    await new Promise((resolve) => first.addEventListener("abort", resolve, { once: true }));
    const next = timeouts.signal(40);
    assert.equal(next.aborted, false, "the grain's fired signal was handed out again");
    assert.notEqual(next, first);
  } finally {
    performance.now = original;
  }
});

Deno.test("SharedTimeouts: a linked call aborts with the caller or the timeout, and unlinks", async () => {
  const timeouts = new SharedTimeouts();
  const caller = new AbortController();
  const { promise: settled, resolve } = Promise.withResolvers<void>();
  const byCaller = timeouts.linked(caller.signal, 10_000, settled);
  caller.abort(new Error("gone"));
  assert.equal(byCaller.signal.aborted, true);
  assert.equal((byCaller.signal.reason as Error).message, "gone");
  resolve();

  const quiet = new AbortController();
  const byTimeout = timeouts.linked(quiet.signal, 30, new Promise(() => {}));
  await new Promise((resolve) => byTimeout.signal.addEventListener("abort", resolve));
  assert.equal(byTimeout.timeout.aborted, true);
  assert.equal((byTimeout.signal.reason as DOMException).name, "TimeoutError");
});

Deno.test("SharedTimeouts.deadline: aborts with its grain, and a released one does not", async () => {
  const timeouts = new SharedTimeouts();
  const kept = timeouts.deadline(30);
  const released = timeouts.deadline(30);
  released.release();
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(kept.signal.aborted, true, "the shared timeout reached it");
  assert.equal(released.signal.aborted, false, "unlinked: nothing reaches it any more");
  kept.release();
});
