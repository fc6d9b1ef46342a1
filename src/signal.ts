/**
 * `anySignal`: `AbortSignal.any` where the runtime has it, a listener-based equivalent where
 * it does not. Vercel's Edge Runtime (`edge-runtime` 4, the sandbox of `next dev` for
 * `runtime = "edge"` routes) has no `AbortSignal.any`, and there `request.signal` comes from
 * another realm, which a native `any` would refuse too.
 *
 * @module
 */

type AnyFn = (signals: AbortSignal[]) => AbortSignal;

/**
 * A signal that aborts, with that signal's reason, as soon as any of `signals` does.
 *
 * @param signals The signals to follow.
 * @returns The combined signal (already aborted when one of them is).
 */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  const native = (AbortSignal as unknown as { any?: AnyFn }).any;
  if (typeof native === "function") {
    try {
      return native.call(AbortSignal, [...signals]);
    } catch (error) {
      // A signal of another realm: fall back to listeners, which work across realms.
      if (!(error instanceof TypeError)) throw error;
    }
  }
  const controller = new AbortController();
  const aborted = signals.find((signal) => signal.aborted);
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return controller.signal;
  }
  // Listeners are dropped once one signal fires, so a long-lived input keeps none of ours.
  const onAbort = (event: Event): void => {
    for (const signal of signals) signal.removeEventListener("abort", onAbort);
    controller.abort((event.target as AbortSignal).reason);
  };
  for (const signal of signals) signal.addEventListener("abort", onAbort);
  return controller.signal;
}
