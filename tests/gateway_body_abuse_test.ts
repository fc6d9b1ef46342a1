/**
 * Request bodies a caller with a key can abuse, over real HTTP.
 *
 * A chunked request body of tiny chunks must not pin memory per chunk. Deno hands a request
 * body's chunks over as small views into 64 KiB buffers; the body limit kept every view
 * until the body ended, so each 1-byte chunk pinned 64 KiB: a caller with a key could send a
 * 128 KiB body (0.8 MB on the wire) and hold 6 GB of the gateway's memory (red team). Over
 * real HTTP, in this process so that its memory is the gateway's.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import { serveSimulator } from "../dev/simulator/mod.ts";
import { opsEnv, opsGateway } from "./helpers/ops_gateway.ts";

const OFFICE = "NCE1A0955";
const CHUNKS = 131_072;

Deno.test("a body of 131,072 one-byte chunks holds no more than garbage does, not a gigabyte", async () => {
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", [OFFICE]);
  const gateway = opsGateway(opsEnv(served.url, [entry])).app;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    gateway.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  // Warm the key: the body then takes the fast path (the Hono route shares the limit).
  const warm = await fetch(`${base}/aqc/${OFFICE}/v1/echo/x`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(warm.status, 200);
  await warm.body?.cancel();

  const encoder = new TextEncoder();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    await conn.write(encoder.encode(
      `POST /aqc/${OFFICE}/v1/echo/chunks HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${key}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
    ));
    // This isolate's external memory (ArrayBuffer backing stores), not the process RSS, so
    // that test files running in parallel do not count.
    const before = Deno.memoryUsage().external;
    let peak = before;
    const piece = encoder.encode("1\r\nA\r\n".repeat(1_024));
    for (let sent = 0; sent < CHUNKS; sent += 1_024) {
      await conn.write(piece);
      // One write per event-loop turn, so the server reads the chunks as they come.
      await new Promise((resolve) => setTimeout(resolve, 1));
      peak = Math.max(peak, Deno.memoryUsage().external);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    peak = Math.max(peak, Deno.memoryUsage().external);
    await conn.write(encoder.encode("0\r\n\r\n"));
    const head = new Uint8Array(1_024);
    const n = await conn.read(head);
    const status = new TextDecoder().decode(head.subarray(0, n ?? 0)).split("\r\n")[0];
    assert.equal(status, "HTTP/1.1 200 OK", "a 128 KiB body is within the limit");
    const grownMb = (peak - before) / 1e6;
    // Measured: views kept, +8,590 MB (131,072 × 64 KiB backing stores); chunks copied,
    // +95–222 MB (the runtime's buffers, garbage once copied, until the next GC).
    assert.ok(grownMb < 1_000, `external memory grew by ${grownMb.toFixed(0)} MB`);
  } finally {
    conn.close();
  }
});

Deno.test("a body trickling in past AQC_UPSTREAM_TIMEOUT_MS is a 408 either way in, unlogged", async () => {
  await using served = await serveSimulator();
  const { key, entry } = await generateGatewayKey("web", [OFFICE]);
  const logged: unknown[] = [];
  const gateway = opsGateway(
    opsEnv(served.url, [entry], undefined, { AQC_UPSTREAM_TIMEOUT_MS: "300" }),
    { log: (line) => void logged.push(line) },
  ).app;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    gateway.fetch,
  );
  const encoder = new TextEncoder();
  // First while the key is cold (the Hono route), then warm (the fast path).
  for (const way of ["Hono route", "fast path"]) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    try {
      await conn.write(encoder.encode(
        `POST /aqc/${OFFICE}/v1/echo/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Authorization: Bearer ${key}\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n`,
      ));
      // Then a byte every 50 ms, never the end, until the gateway answers.
      const drip = setInterval(() => conn.write(encoder.encode("1\r\nA\r\n")).catch(() => {}), 50);
      const head = new Uint8Array(1_024);
      const n = await conn.read(head).finally(() => clearInterval(drip));
      const status = new TextDecoder().decode(head.subarray(0, n ?? 0)).split("\r\n")[0];
      assert.equal(status, "HTTP/1.1 408 Request Timeout", way);
    } finally {
      conn.close();
    }
    if (way === "Hono route") {
      const warm = await fetch(`http://127.0.0.1:${server.addr.port}/aqc/${OFFICE}/v1/echo/x`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(warm.status, 200);
      await warm.body?.cancel();
    }
  }
  assert.deepEqual(logged, []);
  assert.equal(served.simulator.counters.apiRequests, 1, "only the warm-up reached AQC");
});
