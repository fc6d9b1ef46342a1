/**
 * REDTEAM: a hostile or broken token endpoint must not make the manager buffer an
 * unbounded 200 answer, and a `fetch` option that ignores the abort signal must not hang
 * a refresh (and every caller of the office) forever.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager } from "../src/mod.ts";

const OFFICE = "NCE1A0955";
const credentials = (url: string) => ({ apiUrl: url, clientId: "id", clientSecret: "secret" });

Deno.test("a 200 token answer that never ends is cut off, not buffered", async () => {
  let sent = 0;
  const chunk = new TextEncoder().encode(`{"pad":"${"x".repeat(1 << 20)}`);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // About 100 MB/s: an old client that buffers reads until its timeout.
        await new Promise((r) => setTimeout(r, 10));
        const bytes = first ? chunk : chunk.subarray(9);
        first = false;
        sent += bytes.byteLength;
        controller.enqueue(bytes);
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  try {
    const tokens = new TokenManager({
      credentials: credentials(`http://127.0.0.1:${server.addr.port}`),
      tokenRequestTimeoutMs: 1_500,
      retryDeadlineMs: 1_000,
    });
    await assert.rejects(
      tokens.getToken(OFFICE),
      (e) => e instanceof AqcError && e.code === "token_response_invalid",
    );
    await tokens.whenIdle();
    assert.ok(sent < 8 << 20, `${(sent / 2 ** 20).toFixed(0)} MiB read from the endpoint`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a fetch option that ignores the abort signal still ends within the request timeout", async () => {
  const pending: ((r: Response) => void)[] = [];
  const neverAnswers = (_input: RequestInfo | URL, _init?: RequestInit): Promise<Response> =>
    new Promise<Response>((resolve) => pending.push(resolve));
  const tokens = new TokenManager({
    credentials: credentials("http://127.0.0.1:9"),
    fetch: neverAnswers,
    tokenRequestTimeoutMs: 200,
    retryDeadlineMs: 300,
  });
  const outcome = await Promise.race([
    tokens.getToken(OFFICE).then(() => "token", (e) => e instanceof AqcError ? e.code : "other"),
    new Promise<string>((r) => setTimeout(() => r("hang"), 5_000)),
  ]);
  for (const resolve of pending) resolve(new Response(null, { status: 503 }));
  await tokens.whenIdle();
  assert.equal(outcome, "token_endpoint_unavailable");
});
