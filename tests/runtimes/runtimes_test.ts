/**
 * One consumer scenario ({@link ./scenario.ts}) on every runtime aqc-edge claims: Deno (the
 * source), Node and Bun (the `deno bundle` output of the entries), Vercel's Edge Runtime
 * (`edge-runtime`: no `process`, no code generation) and workerd (the library built at Worker
 * module scope, see `drivers/workerd.ts`, which adds the module-scope checks). Prints a
 * runtime × check table; fails on any failed check. Runtimes run one after the other (two cores are shared with other work).
 *
 * Run: `deno test --allow-net=127.0.0.1,localhost --allow-run --allow-env --allow-read
 * --allow-write=/tmp tests/runtimes/runtimes_test.ts`
 */
import assert from "node:assert/strict";
import { startUpstash } from "../helpers/redis.ts";
import { PROJECT_ROOT } from "../helpers/workerd.ts";
import { ENV_VAR } from "./drivers/protocol.ts";
import { buildBundles, bunBinary, runDriver } from "./runner.ts";
import { failures, formatTable, type RuntimeRun } from "./table.ts";
import { CHECKS } from "./scenario.ts";
import { MODULE_SCOPE_CHECKS, runWorkerd } from "./drivers/workerd.ts";

/** Variables `@upstash/redis` 1.39 (its Node entry) reads through `process.env` at construction. */
const UPSTASH_CLIENT_READS = [
  "UPSTASH_DISABLE_TELEMETRY",
  "UPSTASH_CONSOLE",
  "VERCEL",
  "AWS_REGION",
];

/** The `edge-runtime` version of `edge_runtime/package.json` (runs on the machine's node). */
const EDGE_RUNTIME_LABEL = "4.0.1";

async function version(program: string, args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command(program, { args, stdout: "piped", stderr: "null" })
    .output();
  return new TextDecoder().decode(stdout).trim().split("\n")[0].replace(/^v/, "");
}

Deno.test("runtimes: the consumer scenario passes on Deno, Node, Bun, the Edge Runtime and workerd", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aqc-runtimes-" });
  try {
    await using upstash = await startUpstash();
    const [bundles, bun] = await Promise.all([buildBundles(dir), bunBinary()]);
    const runs: RuntimeRun[] = [];
    const denoVersion = Deno.version.deno;
    // Narrow permissions, as a deployed function has: loopback network, the scenario's
    // variable, and what @upstash/redis reads through `process.env` when a client is built
    // (issue #12 item 4, fixed in another branch: then this list shrinks to ENV_VAR).
    runs.push(
      await runDriver(`deno ${denoVersion}`, upstash, Deno.execPath(), [
        "run",
        "--allow-net=127.0.0.1",
        `--allow-env=${[ENV_VAR, ...UPSTASH_CLIENT_READS].join(",")}`,
        "tests/runtimes/drivers/deno.ts",
      ], PROJECT_ROOT),
    );
    runs.push(
      await runDriver(`node ${await version("node", ["--version"])}`, upstash, "node", [
        bundles.node,
        bundles.libUrl,
      ]),
    );
    runs.push(
      await runDriver(`bun ${await version(bun, ["--version"])}`, upstash, bun, [
        bundles.bun,
        bundles.libUrl,
      ]),
    );
    runs.push(
      await runDriver(`edge-runtime ${EDGE_RUNTIME_LABEL}`, upstash, "node", [
        bundles.edgeHost,
        bundles.edgeVm,
      ]),
    );
    runs.push(await runWorkerd(upstash));
    console.log(`\n${formatTable(runs)}\n`);
    for (const run of runs) {
      for (const name of CHECKS) {
        assert.ok(
          run.results.some((result) => result.name === name),
          `${run.runtime} did not report ${name}:\n${run.output}`,
        );
      }
    }
    const workerd = runs[runs.length - 1];
    for (const name of MODULE_SCOPE_CHECKS) {
      assert.ok(workerd.results.some((result) => result.name === name), `workerd: no ${name}`);
    }
    const failed = failures(runs);
    assert.deepEqual(
      failed,
      [],
      `${failed.join("\n")}\n${runs.map((r) => `--- ${r.runtime}\n${r.output}`).join("\n")}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
