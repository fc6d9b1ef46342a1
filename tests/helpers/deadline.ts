/**
 * Per-test deadlines: `deno test` has no per-test timeout, so a body that hangs (a token
 * request nobody aborts, a store call nobody bounds) stalls the whole run with no name on it.
 * These helpers fail such a test fast, with its name, after running its clean-ups.
 *
 * @example
 * ```ts
 * import { deadlineTest } from "./deadline.ts";
 *
 * deadlineTest("a hung call fails in 5 s, not never", 5_000, async ({ signal, defer }) => {
 *   const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *     new Response("ok"));
 *   defer(() => server.shutdown());
 *   await fetch(`http://127.0.0.1:${server.addr.port}/`, { signal }).then((r) => r.text());
 * });
 * ```
 *
 * @module
 */

/** What a body running under a deadline gets. */
export interface DeadlineContext {
  /** Aborted when the deadline passes: pass it to fetch and friends so they stop. */
  readonly signal: AbortSignal;
  /**
   * Registers a clean-up (stop a server, release a hung handler). Clean-ups run once, last
   * registered first, when the body ends or when the deadline passes, whichever is first.
   */
  defer(cleanup: () => unknown): void;
}

/** The error a body that overran its deadline fails with. */
export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
  /** The name of the test (or step) that overran. */
  readonly testName: string;
  /** The deadline in ms. */
  readonly deadlineMs: number;

  /**
   * @param testName The test's name.
   * @param deadlineMs The deadline it overran.
   */
  constructor(testName: string, deadlineMs: number) {
    super(`Test "${testName}" did not finish within its ${deadlineMs} ms deadline`);
    this.testName = testName;
    this.deadlineMs = deadlineMs;
  }
}

/** How long a body may take to settle once its deadline passed and its clean-ups ran. */
const SETTLE_MS = 2_000;

function sleep(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Runs `body` with a deadline. When the body settles first, its result (or error) is
 * returned after the clean-ups ran. When the deadline passes first, the signal is aborted,
 * the clean-ups run, the body gets a short grace period to settle (so the test leaves no
 * pending work behind), and the call rejects with {@linkcode DeadlineExceeded}.
 *
 * @param name The test's name, quoted in the error.
 * @param ms The deadline in ms.
 * @param body The test body.
 * @returns What the body returned.
 * @throws {DeadlineExceeded} when the deadline passed first.
 */
export async function withDeadline<T>(
  name: string,
  ms: number,
  body: (context: DeadlineContext) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const cleanups: (() => unknown)[] = [];
  const runCleanups = async (): Promise<unknown[]> => {
    const errors: unknown[] = [];
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()!();
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  };
  const context: DeadlineContext = {
    signal: controller.signal,
    defer: (cleanup) => void cleanups.push(cleanup),
  };
  const expired: unique symbol = Symbol("expired");
  const timer = sleep(ms);
  const running = (async () => await body(context))();
  // Observed here so a body that rejects after the deadline is no unhandled rejection.
  const settled = running.then(() => undefined, () => undefined);
  let outcome: T | typeof expired;
  try {
    outcome = await Promise.race([running, timer.promise.then((): typeof expired => expired)]);
  } catch (error) {
    timer.cancel();
    await runCleanups();
    throw error;
  }
  timer.cancel();
  if (outcome !== expired) {
    const errors = await runCleanups();
    if (errors.length > 0) throw errors[0];
    return outcome;
  }
  controller.abort(new DeadlineExceeded(name, ms));
  await runCleanups();
  const grace = sleep(SETTLE_MS);
  await Promise.race([settled, grace.promise]);
  grace.cancel();
  throw new DeadlineExceeded(name, ms);
}

/**
 * `Deno.test` with a deadline: the test fails with {@linkcode DeadlineExceeded} naming it
 * when its body takes longer than `ms`.
 *
 * @param name The test's name.
 * @param ms The deadline in ms.
 * @param body The test body; gets the deadline context and Deno's test context.
 * @param options Other `Deno.test` options (`ignore`, `sanitizeOps`, …).
 */
export function deadlineTest(
  name: string,
  ms: number,
  body: (context: DeadlineContext, t: Deno.TestContext) => Promise<void>,
  options: Omit<Deno.TestDefinition, "name" | "fn"> = {},
): void {
  Deno.test({
    ...options,
    name,
    fn: (t) => withDeadline(name, ms, (context) => body(context, t)),
  });
}
