/**
 * The per-test deadline helper: a hang fails fast with the test's name, clean-ups run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DeadlineExceeded, withDeadline } from "./helpers/deadline.ts";

Deno.test("withDeadline fails a hung body with the test's name and runs its clean-ups", async () => {
  const order: string[] = [];
  let release: () => void = () => {};
  const error = await withDeadline("hung body", 100, async ({ signal, defer }) => {
    defer(() => order.push("first registered"));
    defer(() => {
      order.push("last registered");
      release();
    });
    // Hangs until a clean-up releases it; the signal is aborted by then.
    await new Promise<void>((resolve) => (release = resolve));
    assert.ok(signal.aborted);
    assert.ok(signal.reason instanceof DeadlineExceeded);
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof DeadlineExceeded, String(error));
  assert.equal(error.testName, "hung body");
  assert.match(error.message, /"hung body" did not finish within its 100 ms deadline/);
  assert.deepEqual(order, ["last registered", "first registered"]);
});

Deno.test("withDeadline stops a hung fetch through its signal", async () => {
  let hang: () => void = () => {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async () => {
      await new Promise<void>((resolve) => (hang = resolve));
      return new Response("late");
    },
  );
  try {
    await assert.rejects(
      withDeadline("hung fetch", 150, async ({ signal, defer }) => {
        defer(() => hang());
        await fetch(`http://127.0.0.1:${server.addr.port}/`, { signal });
      }),
      DeadlineExceeded,
    );
  } finally {
    hang();
    await server.shutdown();
  }
});

Deno.test("withDeadline returns the body's result and passes its error through", async () => {
  let cleaned = 0;
  const value = await withDeadline("quick", 5_000, ({ defer }) => {
    defer(() => cleaned++);
    return Promise.resolve(42);
  });
  assert.equal(value, 42);
  assert.equal(cleaned, 1);
  await assert.rejects(
    withDeadline("throws", 5_000, ({ defer }) => {
      defer(() => cleaned++);
      return Promise.reject(new RangeError("own error"));
    }),
    RangeError,
  );
  assert.equal(cleaned, 2);
});
