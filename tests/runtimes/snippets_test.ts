/**
 * The README's per-platform snippets (`examples/runtimes/`), run where they are meant to
 * run: Deno Deploy under `deno serve`, Supabase/Netlify under `Deno.serve`, the Node/Bun
 * server bundled and run by `node` and by `bun`, the Next.js Edge route inside
 * `edge-runtime`. (The Workers snippet runs in workerd in runtimes_test.ts.) Each must answer
 * two flight searches with offers and one token request, and a bad office with a typed error.
 *
 * Run: `deno test --allow-net=127.0.0.1,localhost --allow-run --allow-env --allow-read
 * --allow-write=/tmp tests/runtimes/snippets_test.ts`
 */
import assert from "node:assert/strict";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  serveSimulator,
} from "../../dev/simulator/mod.ts";
import { startListening } from "./listening.ts";
import { bunBinary, installEdgeRuntime, must } from "./runner.ts";

const SEARCH = "/flights?office=nce1a0955&from=NCE&to=JFK&date=2026-12-20";
const ENV_NAMES = ["AQC_API_URL", "AQC_CLIENT_ID", "AQC_CLIENT_SECRET"];

/** One snippet on one runtime: how to start it, and the path its route lives under. */
interface SnippetRun {
  name: string;
  program: string;
  args: string[];
  prefix?: string;
}

async function buildSnippets(dir: string): Promise<{ server: string; edge: string; vm: string }> {
  const deno = Deno.execPath();
  const bundle = (platform: string, format: string, out: string, entry: string) =>
    must(`bundle ${entry}`, deno, [
      "bundle",
      "--quiet",
      "--platform",
      platform,
      "--format",
      format,
      "--external",
      "edge-runtime",
      "--output",
      `${dir}/${out}`,
      entry,
    ]);
  await Promise.all([
    bundle("deno", "esm", "server.js", "examples/runtimes/node_bun_server.ts"),
    bundle("deno", "esm", "edge_serve.js", "tests/runtimes/drivers/edge_serve.ts"),
    bundle("browser", "iife", "next_edge_vm.js", "tests/runtimes/drivers/next_edge_vm.ts"),
    installEdgeRuntime(dir),
  ]);
  return { server: `${dir}/server.js`, edge: `${dir}/edge_serve.js`, vm: `${dir}/next_edge_vm.js` };
}

Deno.test("snippets: every platform snippet searches flights with one token request", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "aqc-snippets-" });
  try {
    const [built, bun] = await Promise.all([buildSnippets(dir), bunBinary()]);
    const allowEnv = `--allow-env=${ENV_NAMES.join(",")}`;
    const runs: SnippetRun[] = [
      {
        name: "deno_deploy.ts on deno serve",
        program: Deno.execPath(),
        args: [
          "serve",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--allow-net=127.0.0.1",
          allowEnv,
          "examples/runtimes/deno_deploy.ts",
        ],
      },
      {
        name: "supabase_netlify.ts on Deno.serve",
        program: Deno.execPath(),
        args: ["run", "--allow-net=127.0.0.1", allowEnv, "tests/runtimes/drivers/supabase_host.ts"],
      },
      { name: "node_bun_server.ts on node", program: "node", args: [built.server] },
      { name: "node_bun_server.ts on bun", program: bun, args: [built.server] },
      {
        name: "nextjs_edge_route.ts on edge-runtime",
        program: "node",
        args: [built.edge, built.vm],
      },
    ];
    for (const run of runs) {
      await t.step(run.name, async () => {
        await using served = await serveSimulator();
        await using server = await startListening(run.program, run.args, {
          AQC_API_URL: served.url,
          AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
          AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
          PORT: "0",
          HOST: "127.0.0.1",
        });
        for (const round of [1, 2]) {
          const res = await fetch(`${server.url}${SEARCH}`);
          const text = await res.text();
          assert.equal(res.status, 200, `round ${round}: ${text}\n${server.output()}`);
          assert.ok(JSON.parse(text).data.length > 0, `round ${round}: no offers`);
        }
        assert.equal(served.simulator.counters.tokenRequests, 1);
        assert.equal(served.simulator.counters.apiRequests, 2);
        const bad = await fetch(`${server.url}/flights?office=nope`);
        assert.equal(bad.status, 502);
        assert.deepEqual(await bad.json(), { code: "office_invalid" });
        assert.equal(served.simulator.counters.tokenRequests, 1);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
