/**
 * The gateway as it ships (`deno serve src/main.ts`) against what real deployments meet:
 * compressed answers (curl --compressed, Deno fetch), hostile callers provoking 401s or
 * aiming at the token endpoint, odd methods, and request ids on every answer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";
import { type ServedMain, serveMain } from "./helpers/deno_serve.ts";
import { rawHttp } from "./helpers/raw_http.ts";

const OFFICE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Fixture {
  served: ServedSimulator;
  gateway: ServedMain;
  key: string;
  narrowKey: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const served = await serveSimulator();
  const wide = await generateGatewayKey("wide", ["*"]);
  const narrow = await generateGatewayKey("narrow", [OFFICE]);
  let gateway: ServedMain;
  try {
    gateway = await serveMain({
      AQC_API_URL: served.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([wide.entry, narrow.entry]),
      AQC_MAX_BODY_BYTES: "64",
    });
  } catch (error) {
    await served.close();
    throw error;
  }
  return {
    served,
    gateway,
    key: wide.key,
    narrowKey: narrow.key,
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await served.close();
    },
  };
}

async function curl(
  args: string[],
): Promise<{ code: number; stdout: Uint8Array<ArrayBuffer>; text: string }> {
  const output = await new Deno.Command("curl", { args: ["-sS", ...args], stderr: "piped" })
    .output();
  return {
    code: output.code,
    stdout: new Uint8Array(output.stdout),
    text: new TextDecoder().decode(output.stdout),
  };
}

/** Headers of a `curl -D -` dump, lower-case names. */
function dumpedHeaders(dump: string): Headers {
  const headers = new Headers();
  for (const line of dump.split("\r\n").slice(1)) {
    const at = line.indexOf(":");
    if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return headers;
}

Deno.test("compressed AQC answers reach curl --compressed and Deno fetch intact, labelled as they are", async () => {
  await using f = await fixture();
  const url = `${f.gateway.url}/aqc/${OFFICE}${SEARCH}`;
  const auth = `authorization: Bearer ${f.key}`;
  const expected = await (await fetch(`${f.gateway.url}/aqc/${OFFICE}${SEARCH}`, {
    headers: { authorization: `Bearer ${f.key}`, "accept-encoding": "identity" },
  })).json();
  assert.ok(expected.data.length > 0);

  for (const encoding of [undefined, "gzip", "br", "gzip, br", "identity"]) {
    const args = ["--fail-with-body", "-H", auth, "-o", "-", url];
    if (encoding === undefined) args.unshift("--compressed");
    else args.unshift("--compressed", "-H", `accept-encoding: ${encoding}`);
    const result = await curl(args);
    assert.equal(result.code, 0, `curl --compressed (${encoding}) exit ${result.code}`);
    assert.deepEqual(JSON.parse(result.text), expected, String(encoding));
  }

  // Without --compressed: whatever the labels say must be true of the bytes.
  for (const encoding of ["gzip", "br", "identity"]) {
    const dump = await Deno.makeTempFile({ prefix: "aqc-edge-headers-" });
    try {
      const raw = await curl([
        "-H",
        auth,
        "-H",
        `accept-encoding: ${encoding}`,
        "-D",
        dump,
        "-o",
        "-",
        url,
      ]);
      assert.equal(raw.code, 0);
      const headers = dumpedHeaders(await Deno.readTextFile(dump));
      const label = headers.get("content-encoding");
      const length = headers.get("content-length");
      console.log(
        `deno serve, accept-encoding ${encoding}: ${
          label ?? "identity"
        }, ${raw.stdout.byteLength} bytes`,
      );
      if (length !== null) assert.equal(Number(length), raw.stdout.byteLength, encoding);
      let plain: Uint8Array<ArrayBuffer> = raw.stdout;
      if (label === "gzip") {
        plain = new Uint8Array(
          await new Response(
            new Blob([raw.stdout]).stream().pipeThrough(new DecompressionStream("gzip")),
          ).arrayBuffer(),
        );
      } else if (label === "br") {
        const { brotliDecompressSync } = await import("node:zlib");
        plain = new Uint8Array(brotliDecompressSync(raw.stdout));
      } else {
        assert.equal(label, null, encoding);
      }
      assert.deepEqual(JSON.parse(new TextDecoder().decode(plain)), expected, encoding);
    } finally {
      await Deno.remove(dump);
    }
  }

  // Deno's fetch (asks gzip, br; decodes) through the gateway.
  const response = await fetch(url, { headers: { authorization: `Bearer ${f.key}` } });
  assert.deepEqual(await response.json(), expected);
  // Every call asked AQC for compression, whatever the caller accepted (identity included).
  const log = f.served.simulator.counters.apiLog;
  assert.equal(log.length, 10);
  for (const entry of log) assert.match(entry.headers["accept-encoding"] ?? "", /gzip|br/);
});

Deno.test("a caller cannot burn the office's token: 401s not about the token and /v1/security/ cost nothing", async () => {
  await using f = await fixture();
  const auth = { authorization: `Bearer ${f.narrowKey}` };
  let response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/warm`, { headers: auth });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(f.served.simulator.counters.tokenRequests, 1);

  for (
    const path of [
      "/v1/security/oauth2/token",
      "/V1/Security/OAuth2/Token",
      "/v1/%73ecurity/oauth2/token",
      "/v1/security;x/oauth2/token",
      "/v1/security%2Foauth2%2Ftoken",
      "/v1/security/oauth2/token/",
      "/v1/security",
    ]
  ) {
    for (const method of ["POST", "GET"]) {
      response = await fetch(`${f.gateway.url}/aqc/${OFFICE}${path}`, {
        method,
        headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
        ...(method === "POST" ? { body: "grant_type=client_credentials" } : {}),
      });
      assert.equal(response.status, 400, `${method} ${path}`);
      const body = await response.json();
      assert.equal(body.code, "path_invalid");
    }
  }
  f.served.simulator.configure({ apiFailure: { mode: "unauthorized" } });
  for (let i = 0; i < 50; i++) {
    response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/refused`, { headers: auth });
    assert.equal(response.status, 401);
    assert.equal((await response.json()).errors[0].code, 38197);
  }
  const counters = f.served.simulator.counters;
  assert.equal(counters.tokenRequests, 1, "no call above cost a token request");
  assert.equal(counters.apiRequests, 51, "the security paths never reached AQC");
});

Deno.test("every answer carries a gateway-chosen X-Request-Id; odd methods get 405 with Allow and no error log", async () => {
  await using f = await fixture();
  const base = f.gateway.url;
  const auth = { authorization: `Bearer ${f.narrowKey}`, "x-request-id": "caller-chosen" };
  const answers: [string, Response][] = [
    ["healthz", await fetch(`${base}/healthz`, { headers: auth })],
    ["401", await fetch(`${base}/aqc/${OFFICE}/v1/echo/x`, { headers: { "x-request-id": "c" } })],
    ["403", await fetch(`${base}/aqc/DELAI08AA/v1/echo/x`, { headers: auth })],
    ["404", await fetch(`${base}/nope`, { headers: auth })],
    ["400", await fetch(`${base}/aqc/${OFFICE}/v1/security/oauth2/token`, { headers: auth })],
    [
      "413",
      await fetch(`${base}/aqc/${OFFICE}/v1/echo/x`, {
        method: "POST",
        headers: auth,
        body: "x".repeat(1000),
      }),
    ],
    ["200", await fetch(`${base}/aqc/${OFFICE}/v1/echo/x`, { headers: auth })],
    ["405", await fetch(`${base}/aqc/${OFFICE}/v1/echo/x`, { method: "PROPFIND", headers: auth })],
  ];
  const ids = new Set<string>();
  for (const [name, response] of answers) {
    await response.body?.cancel();
    const id = response.headers.get("x-request-id") ?? "";
    assert.match(id, UUID, name);
    ids.add(id);
  }
  assert.equal(ids.size, answers.length, "one id per answer, never the caller's");
  assert.deepEqual(answers.map(([, r]) => r.status), [200, 401, 403, 404, 400, 413, 200, 405]);

  for (const method of ["TRACE", "CONNECT", "TRACK", "FOO"]) {
    const target = method === "CONNECT" ? "127.0.0.1:1" : `/aqc/${OFFICE}/v1/echo/x`;
    const raw = await rawHttp(base, `${method} ${target} HTTP/1.1`, [
      `Host: 127.0.0.1`,
      `Authorization: Bearer ${f.narrowKey}`,
      "Connection: close",
    ]);
    if (method === "CONNECT" && raw.status !== 405) {
      // Deno's HTTP server may refuse CONNECT itself; it must not reach the gateway's code.
      assert.notEqual(raw.status, 500, method);
      continue;
    }
    assert.equal(raw.status, 405, method);
    const headers = new Headers(raw.headers);
    assert.equal(headers.get("allow"), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    assert.match(headers.get("x-request-id") ?? "", UUID);
    assert.equal(JSON.parse(raw.body).code, "method_not_allowed");
  }
  assert.equal(f.served.simulator.counters.apiRequests, 1);
  assert.doesNotMatch(f.gateway.output(), /internal_error/);
});

Deno.test("log lines name the caller key and keep the caller's request id apart, bounded and sanitised", async () => {
  await using f = await fixture();
  f.served.simulator.configure({ tokenFailure: { mode: "invalid_client" } });
  const hostile = `"}{"level":"error"\u00e9` + "x".repeat(500);
  const response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/x`, {
    headers: { authorization: `Bearer ${f.narrowKey}`, "x-request-id": hostile },
  });
  assert.equal(response.status, 502);
  const id = response.headers.get("x-request-id");
  await response.body?.cancel();
  const deadline = Date.now() + 5_000;
  let line: Record<string, unknown> | undefined;
  while (line === undefined && Date.now() < deadline) {
    for (const text of f.gateway.output().split("\n")) {
      if (text.startsWith("{") && text.includes("credentials_rejected")) line = JSON.parse(text);
    }
    if (line === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(line, f.gateway.output());
  assert.equal(line.keyId, "narrow");
  assert.equal(line.requestId, id);
  const callerId = String(line.callerRequestId);
  assert.ok(callerId.length <= 128);
  assert.match(callerId, /^[\x21\x23-\x5b\x5d-\x7e]+$/);
  assert.ok(!f.gateway.output().includes(f.narrowKey));
});

Deno.test("AQC's cookies, CORS grants and infrastructure headers stop at the gateway", async () => {
  await using f = await fixture();
  f.served.simulator.configure({
    apiFailure: {
      mode: "status",
      status: 200,
      body: "{}",
      contentType: "application/json",
      headers: {
        "set-cookie": "aqc_session=1; Path=/",
        "access-control-allow-origin": "*",
        "access-control-allow-credentials": "true",
        server: "apigee",
        "ama-request-id": "0001ABC",
        etag: '"v1"',
      },
    },
  });
  const response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/x`, {
    headers: { authorization: `Bearer ${f.key}`, origin: "https://evil.example" },
  });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "{}");
  assert.deepEqual(response.headers.getSetCookie(), []);
  assert.equal(response.headers.get("access-control-allow-origin"), null);
  assert.equal(response.headers.get("access-control-allow-credentials"), null);
  assert.equal(response.headers.get("ama-request-id"), "0001ABC");
  assert.equal(response.headers.get("etag"), '"v1"');
});
