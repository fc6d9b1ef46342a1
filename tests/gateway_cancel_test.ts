/**
 * A caller that leaves while the gateway streams AQC's answer cancels the upstream call
 * (the body's cancellation; a hang-up before AQC's headers is `gateway_hangup_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { TokenManager } from "../src/mod.ts";
import { createGateway, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import { createSimulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from "../dev/simulator/mod.ts";

Deno.test("a caller leaving mid-body cancels the upstream body", async () => {
  let cancelled: () => void = () => {};
  const upstreamCancelled = new Promise<void>((resolve) => (cancelled = resolve));
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  // An upstream that streams one chunk every 20 ms until cancelled.
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setInterval(() => controller.enqueue(encoder.encode("chunk\n")), 20);
        },
        cancel() {
          clearInterval(timer);
          cancelled();
        },
      }),
      { headers: { "content-type": "text/plain" } },
    ));
  const apiUrl = `http://127.0.0.1:${upstream.addr.port}`;
  const simulator = createSimulator();
  const tokens = new TokenManager({
    credentials: { apiUrl, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
    fetch: simulator.fetch,
  });
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const gateway = createGateway(
    loadConfig({
      AQC_API_URL: apiUrl,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([entry]),
    }),
    { tokens, log: () => {} },
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gateway.fetch);
  try {
    const caller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/aqc/NCE1A0955/v1/stream`, {
      headers: { authorization: `Bearer ${key}` },
      signal: caller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "chunk\n");
    caller.abort();
    await reader.read().catch(() => undefined);
    let waited: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      upstreamCancelled.then(() => "cancelled"),
      new Promise<string>((
        resolve,
      ) => (waited = setTimeout(() => resolve("still streaming"), 3_000))),
    ]);
    clearTimeout(waited);
    assert.equal(outcome, "cancelled");
  } finally {
    clearInterval(timer);
    await server.shutdown();
    await upstream.shutdown();
  }
});
