/**
 * Node driver (Node ≥ 20): the scenario on the bundled entries, the gateway served by
 * `@hono/node-server`. Bundled by the runner with `deno bundle`, run by `node`.
 *
 * @module
 */
import { serve } from "@hono/node-server";
import { runBundled } from "./bundled.ts";

await runBundled((handler) =>
  new Promise((resolve) => {
    const server = serve({ fetch: handler, hostname: "127.0.0.1", port: 0 }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Keep-alive connections would hold close() open until they time out.
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      });
    });
  })
);
