/**
 * What createAqcFetch hands back: headers that describe the body's bytes (compression),
 * and no header echoing the bearer. Deno's own fetch over loopback, and the in-process
 * simulator as a custom transport that does not decode.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createAqcFetch, TokenManager } from "../src/mod.ts";
import { createGateway, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import {
  createSimulator,
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type EchoBody,
  serveSimulator,
} from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

Deno.test("Deno's fetch decodes gzip and br: the answer loses Content-Encoding and the compressed length", async () => {
  await using served = await serveSimulator();
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  const aqc = createAqcFetch({ tokens });
  for (const encoding of ["gzip", "br", "gzip, br"]) {
    const response = await aqc(OFFICE, SEARCH, { headers: { "accept-encoding": encoding } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), null, encoding);
    assert.equal(response.headers.get("content-length"), null, encoding);
    const bytes = new Uint8Array(await response.arrayBuffer());
    // Plain JSON, whole: a re-served copy is exactly what its headers say.
    assert.ok(JSON.parse(new TextDecoder().decode(bytes)).data.length > 0, encoding);
  }
  const log = served.simulator.counters.apiLog;
  assert.deepEqual(log.map((e) => e.headers["accept-encoding"]), ["gzip", "br", "gzip, br"]);
  // Identity: nothing to relabel; the length stays.
  const plain = await aqc(OFFICE, SEARCH, { headers: { "accept-encoding": "identity" } });
  assert.equal(plain.headers.get("content-encoding"), null);
  const text = await plain.text();
  assert.equal(plain.headers.get("content-length"), String(new TextEncoder().encode(text).length));
});

Deno.test("a transport that does not decode: the compressed bytes keep their label", async () => {
  const simulator = createSimulator();
  const apiUrl = "http://127.0.0.1:9";
  const tokens = new TokenManager({
    credentials: { apiUrl, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
    fetch: simulator.fetch,
  });
  const aqc = createAqcFetch({ tokens, fetch: simulator.fetch });
  const response = await aqc(OFFICE, SEARCH, { headers: { "accept-encoding": "gzip" } });
  assert.equal(response.headers.get("content-encoding"), "gzip");
  const gz = new Uint8Array(await response.arrayBuffer());
  assert.equal(response.headers.get("content-length"), String(gz.byteLength));
  const plain = await new Response(
    new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip")),
  ).json();
  assert.ok(plain.data.length > 0);

  // A gzip 401 about the token (its body the only sign) is still recognised through such
  // a transport.
  simulator.configure({
    apiFailure: {
      mode: "status",
      status: 401,
      body: '{"errors":[{"status":401,"code":38192,"title":"Access token expired"}]}',
      remaining: 1,
    },
  });
  const replayed = await aqc(OFFICE, "/v1/echo/x", { headers: { "accept-encoding": "gzip" } });
  assert.equal(replayed.status, 200);
  await replayed.body?.cancel();
  assert.equal(simulator.counters.tokenRequests, 2);
});

Deno.test("no header of AQC's answer that echoes the bearer reaches the gateway's caller", async () => {
  const api = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const bearer = request.headers.get("authorization") ?? "";
    return new Response("{}", {
      headers: {
        "content-type": "application/json",
        "www-authenticate": `Bearer token="${bearer.slice(7)}"`,
        "ama-echo": `token=${bearer.slice(7)}`,
        "ama-request-id": "0001",
      },
    });
  });
  try {
    await using served = await serveSimulator();
    const apiUrl = `http://127.0.0.1:${api.addr.port}`;
    const tokens = new TokenManager({
      credentials: { apiUrl, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
      fetch: (input, init) =>
        fetch(
          `${served.url}${new URL(input instanceof Request ? input.url : String(input)).pathname}`,
          init,
        ),
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
    const response = await gateway.request(`/aqc/${OFFICE}/v1/echo/x`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const token = (await tokens.getToken(OFFICE)).accessToken;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("ama-request-id"), "0001");
    for (const [name, value] of response.headers) assert.ok(!value.includes(token), name);
    assert.equal(response.headers.has("www-authenticate"), false);
    assert.equal(response.headers.has("ama-echo"), false);
    assert.equal(await response.text(), "{}");
  } finally {
    await api.shutdown();
  }
});

Deno.test("the echo API still sees the caller's headers (EchoBody shape unchanged)", async () => {
  await using served = await serveSimulator({ knobs: { compression: false } });
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  const aqc = createAqcFetch({ tokens });
  const response = await aqc(OFFICE, "/v1/echo/x", { headers: { "accept-encoding": "gzip" } });
  assert.equal(response.headers.get("content-encoding"), null);
  const echo = await response.json() as EchoBody;
  assert.equal(echo.headers["accept-encoding"], "gzip");
});

Deno.test("an upstream that compresses although asked for identity keeps its (true) label", async () => {
  const plain = JSON.stringify({ data: ["x".repeat(200)] });
  const gz = new Uint8Array(
    await new Response(new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const api = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(gz, {
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
      }),
  );
  try {
    await using served = await serveSimulator();
    const tokens = new TokenManager({
      credentials: {
        apiUrl: `http://127.0.0.1:${api.addr.port}`,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      fetch: (input, init) =>
        fetch(
          `${served.url}${new URL(input instanceof Request ? input.url : String(input)).pathname}`,
          init,
        ),
    });
    const aqc = createAqcFetch({ tokens });
    for (const encoding of ["identity", "IDENTITY", "gzip", undefined]) {
      const response = await aqc(OFFICE, "/v1/x", {
        headers: encoding === undefined ? {} : { "accept-encoding": encoding },
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      const label = response.headers.get("content-encoding");
      const text = label === "gzip"
        ? await new Response(
          new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
        )
          .text()
        : new TextDecoder().decode(bytes);
      assert.equal(text, plain, String(encoding));
    }
  } finally {
    await api.shutdown();
  }
});
