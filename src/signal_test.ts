import assert from "../tests/helpers/assert.ts";
import { anySignal } from "./signal.ts";

/** Runs `body` with `AbortSignal.any` removed, as in Vercel's Edge Runtime. */
async function withoutNativeAny(body: () => Promise<void> | void): Promise<void> {
  const descriptor = Object.getOwnPropertyDescriptor(AbortSignal, "any");
  assert.ok(descriptor, "this runtime has AbortSignal.any");
  delete (AbortSignal as { any?: unknown }).any;
  try {
    await body();
  } finally {
    Object.defineProperty(AbortSignal, "any", descriptor);
  }
}

for (const mode of ["native", "fallback"] as const) {
  const run = (body: () => Promise<void> | void) =>
    mode === "native" ? body() : withoutNativeAny(body);

  Deno.test(`anySignal (${mode}): aborts with the reason of the first signal that aborts`, () =>
    run(() => {
      const a = new AbortController();
      const b = new AbortController();
      const combined = anySignal([a.signal, b.signal]);
      assert.equal(combined.aborted, false);
      b.abort(new Error("b"));
      assert.equal(combined.aborted, true);
      assert.equal((combined.reason as Error).message, "b");
      a.abort(new Error("a"));
      assert.equal((combined.reason as Error).message, "b");
    }));

  Deno.test(`anySignal (${mode}): an already aborted input gives an aborted signal`, () =>
    run(() => {
      const reason = new Error("early");
      const combined = anySignal([new AbortController().signal, AbortSignal.abort(reason)]);
      assert.equal(combined.aborted, true);
      assert.equal(combined.reason, reason);
    }));

  Deno.test(`anySignal (${mode}): a timeout input aborts the combined signal`, () =>
    run(async () => {
      const combined = anySignal([new AbortController().signal, AbortSignal.timeout(1)]);
      await new Promise<void>((resolve) => combined.addEventListener("abort", () => resolve()));
      assert.equal((combined.reason as DOMException).name, "TimeoutError");
    }));
}

Deno.test("anySignal (fallback): drops its listeners from every input once one aborts", () =>
  withoutNativeAny(() => {
    const counts = new Map<AbortSignal, number>();
    const tracked = (): AbortSignal => {
      const signal = new AbortController().signal;
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      counts.set(signal, 0);
      signal.addEventListener = (...args: Parameters<typeof add>) => {
        counts.set(signal, (counts.get(signal) ?? 0) + 1);
        add(...args);
      };
      signal.removeEventListener = (...args: Parameters<typeof remove>) => {
        counts.set(signal, (counts.get(signal) ?? 0) - 1);
        remove(...args);
      };
      return signal;
    };
    const controller = new AbortController();
    const others = [tracked(), tracked()];
    const combined = anySignal([...others, controller.signal]);
    assert.deepEqual(others.map((signal) => counts.get(signal)), [1, 1]);
    controller.abort();
    assert.equal(combined.aborted, true);
    assert.deepEqual(others.map((signal) => counts.get(signal)), [0, 0]);
  }));
