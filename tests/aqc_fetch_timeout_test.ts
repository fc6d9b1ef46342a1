/**
 * createAqcFetch upstream timeouts: shared timeout signals still give every call at least
 * its full timeout, and never much more.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, createAqcFetch, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

Deno.test("every call gets its full timeout, also right after another call timed out", async () => {
  await using served = await serveSimulator({ knobs: { apiFailure: { mode: "hang" } } });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  await tokens.getToken(OFFICE);
  const aqc = createAqcFetch({ tokens, timeoutMs: 200 });
  const timed = async (delayMs: number) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const started = performance.now();
    const error = await aqc(OFFICE, "/v1/echo/slow").then(() => undefined, (e) => e);
    assert.ok(error instanceof AqcError && error.code === "upstream_timeout", String(error));
    return performance.now() - started;
  };
  // Calls starting together, a little later, and just after the first ones timed out.
  const waits = await Promise.all([timed(0), timed(0), timed(5), timed(60), timed(205)]);
  for (const ms of waits) {
    assert.ok(ms >= 195, `timed out after ${ms.toFixed(0)} ms, before its 200 ms`);
    // Timeout + grain (10 ms here) + scheduling slack.
    assert.ok(ms < 400, `timed out after ${ms.toFixed(0)} ms`);
  }
});

Deno.test("with signal and settled: the timeout and the caller's abort both still end the call", async () => {
  await using served = await serveSimulator({ knobs: { apiFailure: { mode: "hang" } } });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  const aqc = createAqcFetch({ tokens, timeoutMs: 200 });
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const caller = new AbortController();
  await assert.rejects(
    aqc("NCE1A0955", "/v1/echo/x", { signal: caller.signal, settled }),
    (e) => e instanceof AqcError && e.code === "upstream_timeout",
  );
  const leaving = aqc("NCE1A0955", "/v1/echo/y", { signal: caller.signal, settled });
  while (served.simulator.counters.apiRequests < 2) {
    await new Promise((r) => setTimeout(r, 10));
  }
  caller.abort(new Error("caller left"));
  await assert.rejects(leaving, /caller left/);
  settle();
  // An already-aborted signal never sends.
  await assert.rejects(
    aqc("NCE1A0955", "/v1/echo/z", { signal: caller.signal, settled }),
    /caller left/,
  );
  while (served.simulator.counters.apiRequestsInFlight > 0) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(served.simulator.counters.apiRequests, 2);
});

Deno.test("linked calls keep no timer alive: a script exits once its calls are done, not after their timeout", async () => {
  // A listener on a timeout signal keeps Deno's event loop alive until it fires; the shared
  // timeouts listen only while calls are linked. Run in a child process: 120 s timeouts, 20
  // linked calls, then the script returns — it must exit well before any timeout fires.
  const script = `
    import { createAqcFetch, TokenManager } from ${
    JSON.stringify(new URL("../src/mod.ts", import.meta.url).href)
  };
    import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from ${
    JSON.stringify(new URL("../dev/simulator/mod.ts", import.meta.url).href)
  };
    const served = await serveSimulator();
    const tokens = new TokenManager({ credentials: { apiUrl: served.url, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET } });
    const aqc = createAqcFetch({ tokens, timeoutMs: 120_000 });
    for (let i = 0; i < 20; i++) {
      const { promise: settled, resolve } = Promise.withResolvers<void>();
      const response = await aqc("${OFFICE}", "/v1/echo/x", { signal: new AbortController().signal, settled });
      await response.body?.cancel();
      resolve();
    }
    await served[Symbol.asyncDispose]();
    console.log("done");
  `;
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(path, script);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", "--allow-env", "--allow-read", path],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Far below the 120 s timeout, far above a cold start on a loaded machine.
    const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    const output = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, `the script did not exit by itself:\n${stderr}`);
    assert.match(new TextDecoder().decode(output.stdout), /done/);
  } finally {
    await Deno.remove(path);
  }
});
