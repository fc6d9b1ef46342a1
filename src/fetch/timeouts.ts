/**
 * Upstream timeouts shared by the calls that start close together, and the cheap link of a
 * caller's signal with one of them.
 *
 * @module
 */

/** Largest amount by which a call's upstream deadline is rounded up (see below). */
const MAX_TIMEOUT_GRAIN_MS = 100;

/**
 * Cloudflare Workers tie a timer to the request that started it (it does not outlive that
 * request), so there a timeout signal cannot be shared across requests.
 */
const SHARE_TIMEOUTS = globalThis.navigator?.userAgent !== "Cloudflare-Workers";

/**
 * One shared timeout: its signal, its grain, and the calls linked to it. The grain listens
 * to its signal only while calls are linked: Deno keeps the event loop alive for a timeout
 * signal that has a listener (a process or a test would then wait out the whole timeout),
 * and once per grain rather than once per call, since adding and removing a listener on an
 * EventTarget costs about 0.5 µs on Deno where a Set add and delete costs a few ns.
 */
class Grain {
  readonly signal: AbortSignal;
  /** When the grain began (`performance.now()`). */
  readonly from: number;
  readonly until: number;
  /** Controllers of linked calls still running; aborted with the signal. */
  readonly #linked = new Set<AbortController>();
  readonly #onAbort = (): void => {
    for (const controller of this.#linked) controller.abort(this.signal.reason);
    this.#linked.clear();
  };

  constructor(timeoutMs: number, grain: number, now: number) {
    this.signal = AbortSignal.timeout(Math.ceil(timeoutMs + grain));
    this.from = now;
    this.until = now + grain;
  }

  link(controller: AbortController): void {
    if (this.#linked.size === 0) this.signal.addEventListener("abort", this.#onAbort);
    this.#linked.add(controller);
  }

  unlink(controller: AbortController): void {
    if (this.#linked.delete(controller) && this.#linked.size === 0) {
      this.signal.removeEventListener("abort", this.#onAbort);
    }
  }
}

/**
 * Upstream timeout signals, one per timeout value and per grain of start times (1/20 of
 * the timeout, at most 100 ms), shared by the calls that start within it; a call's
 * deadline is its timeout plus at most the grain. A signal per call kept a timer and about
 * half a kilobyte alive for the whole timeout (30 s by default): some 80 MB and much GC
 * work at 6,000 calls per second. `fetch` drops its listener from a signal when the call
 * is over, so sharing one retains nothing.
 */
export class SharedTimeouts {
  readonly #current = new Map<number, Grain>();

  #grain(timeoutMs: number): Grain {
    // performance.now, not Date.now (half the cost on Deno): a wall clock stepped back into
    // an old grain would hand a call a signal older than the grain, even one already fired.
    // An aborted signal is never handed out, whatever the clock says.
    const now = performance.now();
    const current = this.#current.get(timeoutMs);
    if (
      current !== undefined && now >= current.from && now < current.until &&
      !current.signal.aborted
    ) {
      return current;
    }
    const grain = new Grain(timeoutMs, Math.min(MAX_TIMEOUT_GRAIN_MS, timeoutMs / 20), now);
    // Per-call timeouts could be many distinct values: keep only a few.
    if (this.#current.size >= 16 && current === undefined) this.#current.clear();
    this.#current.set(timeoutMs, grain);
    return grain;
  }

  /**
   * The timeout signal of a call starting now.
   *
   * @param timeoutMs The call's timeout.
   * @returns A signal that aborts with a `TimeoutError` at most a grain after the timeout.
   */
  signal(timeoutMs: number): AbortSignal {
    if (!SHARE_TIMEOUTS) return AbortSignal.timeout(timeoutMs);
    return this.#grain(timeoutMs).signal;
  }

  /**
   * A deadline of its own that follows the shared timeout: its signal aborts with the
   * grain's, through the grain's set of linked controllers rather than a listener per
   * deadline on the shared signal (Deno's EventTarget adds and removes in time linear in
   * the listeners there: 10,000 bodies read at once cost 0.6 s of it, red team).
   * `release` unlinks it once it is no longer needed.
   *
   * @param timeoutMs The deadline.
   * @returns The signal, and `release`.
   */
  deadline(timeoutMs: number): { signal: AbortSignal; release: () => void } {
    if (!SHARE_TIMEOUTS) return { signal: AbortSignal.timeout(timeoutMs), release: () => {} };
    const grain = this.#grain(timeoutMs);
    const controller = new AbortController();
    grain.link(controller);
    return { signal: controller.signal, release: () => grain.unlink(controller) };
  }

  /**
   * A signal that aborts with `caller` or with the call's timeout, unlinked from both once
   * `settled` settles: the cheap `AbortSignal.any` for callers that know when they are done
   * (a listener left on a shared timeout would otherwise live as long as it does).
   *
   * @param caller The caller's signal.
   * @param timeoutMs The call's timeout.
   * @param settled Settles once the caller is done with the answer.
   * @returns The linked signal, and the timeout signal it follows (to tell a timeout apart).
   */
  linked(
    caller: AbortSignal,
    timeoutMs: number,
    settled: Promise<unknown>,
  ): { signal: AbortSignal; timeout: AbortSignal } {
    const controller = new AbortController();
    if (!SHARE_TIMEOUTS) {
      const timeout = AbortSignal.timeout(timeoutMs);
      return { signal: linkTo(controller, caller, timeout, settled), timeout };
    }
    const grain = this.#grain(timeoutMs);
    const timeout = grain.signal;
    if (caller.aborted || timeout.aborted) {
      controller.abort(caller.aborted ? caller.reason : timeout.reason);
      return { signal: controller.signal, timeout };
    }
    const onCaller = () => controller.abort(caller.reason);
    caller.addEventListener("abort", onCaller, { once: true });
    grain.link(controller);
    const unlink = () => {
      caller.removeEventListener("abort", onCaller);
      grain.unlink(controller);
    };
    settled.then(unlink, unlink);
    return { signal: controller.signal, timeout };
  }
}

/** `controller` aborted by `caller` or `timeout`, both unlinked once `settled` settles. */
function linkTo(
  controller: AbortController,
  caller: AbortSignal,
  timeout: AbortSignal,
  settled: Promise<unknown>,
): AbortSignal {
  if (caller.aborted || timeout.aborted) {
    controller.abort(caller.aborted ? caller.reason : timeout.reason);
    return controller.signal;
  }
  const onCaller = () => controller.abort(caller.reason);
  const onTimeout = () => controller.abort(timeout.reason);
  caller.addEventListener("abort", onCaller, { once: true });
  timeout.addEventListener("abort", onTimeout, { once: true });
  const unlink = () => {
    caller.removeEventListener("abort", onCaller);
    timeout.removeEventListener("abort", onTimeout);
  };
  settled.then(unlink, unlink);
  return controller.signal;
}
