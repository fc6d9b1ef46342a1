/**
 * Minimal type declarations for the workerd built-in module `cloudflare:workers`, used by
 * `src/worker.ts` through a `// @ts-types="./types/cloudflare_workers.d.ts"` directive. Deno
 * cannot resolve the `cloudflare:` scheme, so without this the import is untyped. The bundle
 * keeps the import external (`deno bundle --external cloudflare:workers`) and workerd provides
 * it. Only what aqc-edge uses is declared, so no `@cloudflare/workers-types` dependency.
 */

/** The execution context workerd passes to handlers and entrypoints. */
export interface ExecutionContext {
  /** Keeps the invocation alive until the promise settles. */
  waitUntil(promise: Promise<unknown>): void;
  /** Fails open to the origin on an uncaught exception. */
  passThroughOnException(): void;
  /** Props passed by the caller of a service binding (empty for HTTP). */
  readonly props: unknown;
}

/** The controller passed to a `scheduled` handler. */
export interface ScheduledController {
  /** The cron pattern that fired (or the `cron` query of `/__scheduled`). */
  readonly cron: string;
  /** The scheduled time, in milliseconds since the epoch. */
  readonly scheduledTime: number;
  /** Asks workerd not to retry this event. */
  noRetry(): void;
}

/** Base class of named entrypoints callable over a service binding (fetch and RPC). */
export declare abstract class WorkerEntrypoint<Env = unknown> {
  /** The execution context of the current invocation. */
  protected ctx: ExecutionContext;
  /** The bindings of the worker. */
  protected env: Env;
  /** Called by workerd; never construct an entrypoint yourself. */
  constructor(ctx: ExecutionContext, env: Env);
  /** Optional HTTP handler reached through `env.BINDING.fetch()`. */
  fetch?(request: Request): Response | Promise<Response>;
}
