/**
 * What the Worker entry (`src/worker.ts`) keeps off its first answer: the start-up warnings,
 * written after the answer. They cost a cold start in workerd (`bench/PROFILES.md`, "Worker
 * cold start").
 *
 * @module
 */
import type { ExecutionContext } from "./types/cloudflare_workers.d.ts";

/**
 * Writes start-up warnings after the current invocation answered or while it waits for I/O.
 * workerd's first console call in an isolate loads its log formatting (~4 ms, workerd
 * 2026-04-26), which delayed the first answer by as much; a zero timer runs once the answer is
 * on its way, or while the first proxied call waits for its token, and `waitUntil` keeps the
 * isolate until it has run.
 *
 * @param lines The warnings, without the `aqc-edge: ` prefix.
 * @param ctx The invocation's context.
 */
export function writeWarningsLater(lines: readonly string[], ctx: ExecutionContext): void {
  if (lines.length === 0) return;
  ctx.waitUntil(
    new Promise<void>((resolve) =>
      setTimeout(() => {
        for (const line of lines) console.warn(`aqc-edge: ${line}`);
        resolve();
      }, 0)
    ),
  );
}
