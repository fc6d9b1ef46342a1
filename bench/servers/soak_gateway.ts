/**
 * The gateway of the memory soak: `src/main.ts`'s handler (configured from the environment,
 * like `deno serve src/main.ts`) under `Deno.serve`, which hands it the same
 * `ServeHandlerInfo` as `deno serve`, plus one memory sample per second on stdout:
 *
 * `soak-memory {"t":…,"heapUsed":…,"heapTotal":…,"rss":…,"external":…,"heapAfterGc":…}`
 *
 * `heapAfterGc` (only with `--v8-flags=--expose-gc`, every fifth sample) is the heap after a
 * full collection: what is retained, the number a leak moves.
 *
 * @module
 */
import gateway from "../../src/main.ts";

const gc = (globalThis as { gc?: () => void }).gc;
const started = performance.now();
let sample = 0;

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`soak-gateway: http://127.0.0.1:${port}`),
}, gateway.fetch);

setInterval(() => {
  sample++;
  let heapAfterGc: number | undefined;
  if (gc !== undefined && sample % 5 === 0) {
    gc();
    heapAfterGc = Deno.memoryUsage().heapUsed;
  }
  const { heapUsed, heapTotal, rss, external } = Deno.memoryUsage();
  const t = Math.round(performance.now() - started);
  console.log(
    `soak-memory ${JSON.stringify({ t, heapUsed, heapTotal, rss, external, heapAfterGc })}`,
  );
}, 1_000);
