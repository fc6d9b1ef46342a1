/**
 * The gateway in the real workerd (`wrangler dev`, the root `wrangler.toml`) in front of
 * the AQC simulator: compressed answers reach callers intact and truthfully labelled.
 *
 * Hang-ups are not tested here: `wrangler dev`'s local proxy keeps its connection to
 * workerd open when the caller leaves, so `request.signal` never aborts there (measured:
 * 50 of 50 upstream calls still in flight, with `enable_request_signal` or without).
 *
 * Run: `deno test --allow-net=127.0.0.1,localhost --allow-run --allow-env --allow-read
 * --allow-write=/tmp tests/gateway_workerd_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { brotliDecompressSync } from "node:zlib";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { startWrangler } from "./helpers/workerd.ts";

const NCE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

async function curl(args: string[]): Promise<{ code: number; stdout: Uint8Array<ArrayBuffer> }> {
  const output = await new Deno.Command("curl", { args: ["-sS", ...args], stderr: "piped" })
    .output();
  return { code: output.code, stdout: new Uint8Array(output.stdout) };
}

Deno.test("workerd: compressed answers reach callers intact and labelled as they are", async (t) => {
  await using sim = await serveSimulator();
  const web = await generateGatewayKey("web", ["*"]);
  await using session = await startWrangler({
    configs: ["wrangler.toml"],
    vars: { AQC_API_URL: sim.url, AQC_CLIENT_ID: DEFAULT_CLIENT_ID },
    secrets: {
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([web.entry]),
    },
  });
  const auth = `authorization: Bearer ${web.key}`;
  const url = `${session.url}/aqc/${NCE}${SEARCH}`;
  const expected = await (await fetch(url, {
    headers: { authorization: `Bearer ${web.key}`, "accept-encoding": "identity" },
  })).json();
  assert.ok(expected.data.length > 0, session.output());

  await t.step("curl --compressed and raw bytes for gzip, br and identity", async () => {
    for (const encoding of ["gzip", "br", "gzip, br", "identity"]) {
      const decoded = await curl([
        "--compressed",
        "-H",
        auth,
        "-H",
        `accept-encoding: ${encoding}`,
        url,
      ]);
      assert.equal(decoded.code, 0, `curl --compressed (${encoding}) exit ${decoded.code}`);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(decoded.stdout)), expected, encoding);

      const dump = await Deno.makeTempFile({ prefix: "aqc-edge-headers-" });
      try {
        const raw = await curl(["-H", auth, "-H", `accept-encoding: ${encoding}`, "-D", dump, url]);
        assert.equal(raw.code, 0);
        const headers = new Headers();
        for (const line of (await Deno.readTextFile(dump)).split("\r\n").slice(1)) {
          const at = line.indexOf(":");
          if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
        }
        const length = headers.get("content-length");
        if (length !== null) assert.equal(Number(length), raw.stdout.byteLength, encoding);
        const label = headers.get("content-encoding");
        const plain = label === "gzip"
          ? new Uint8Array(
            await new Response(
              new Blob([raw.stdout]).stream().pipeThrough(new DecompressionStream("gzip")),
            ).arrayBuffer(),
          )
          : label === "br"
          ? new Uint8Array(brotliDecompressSync(raw.stdout))
          : raw.stdout;
        if (label !== "gzip" && label !== "br") assert.equal(label, null, encoding);
        console.log(
          `workerd, accept-encoding ${encoding}: ${
            label ?? "identity"
          }, ${raw.stdout.byteLength} bytes`,
        );
        assert.deepEqual(JSON.parse(new TextDecoder().decode(plain)), expected, encoding);
      } finally {
        await Deno.remove(dump);
      }
    }
  });

  await t.step("the start-up warning is written once, after the first answers", async () => {
    // src/worker.ts defers it off the first request (workerd's first console call is slow).
    const warning = "aqc-edge: UPSTASH_REDIS_REST_URL is not set";
    const count = () => session.output().split(warning).length - 1;
    for (let i = 0; i < 100 && count() === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(count(), 1, session.output().slice(-2000));
  });
});
