/**
 * Bun driver: the scenario on the bundled entries, the gateway served by `Bun.serve`.
 * Bundled by the runner with `deno bundle`, run by the `bun` binary of the npm package.
 *
 * @module
 */
import { runBundled } from "./bundled.ts";

/** The part of Bun's global the driver uses (no Bun types in this project). */
interface BunGlobal {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> | void };
}

const bun = (globalThis as { Bun?: BunGlobal }).Bun;
if (bun === undefined) throw new Error("This driver runs on Bun only");

await runBundled((handler) => {
  const server = bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handler });
  return Promise.resolve({
    url: `http://127.0.0.1:${server.port}`,
    close: async () => {
      await server.stop(true);
    },
  });
});
