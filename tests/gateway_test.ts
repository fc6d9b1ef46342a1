/**
 * The gateway over HTTP as it ships: `deno serve src/main.ts` as a process, in front of the
 * AQC simulator on loopback.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type EchoBody,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";
import { runMainExpectingExit, type ServedMain, serveMain } from "./helpers/deno_serve.ts";

const OFFICE = "NCE1A0955";
const OTHER = "DELAI08AA";

interface Fixture {
  served: ServedSimulator;
  gateway: ServedMain;
  key: string;
  narrowKey: string;
  env: Record<string, string>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function fixture(extra: Record<string, string> = {}): Promise<Fixture> {
  const served = await serveSimulator();
  const wide = await generateGatewayKey("wide", ["*"]);
  const narrow = await generateGatewayKey("narrow", [OFFICE]);
  const env = {
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([wide.entry, narrow.entry]),
    AQC_MAX_BODY_BYTES: "4096",
    ...extra,
  };
  let gateway: ServedMain;
  try {
    gateway = await serveMain(env);
  } catch (error) {
    await served.close();
    throw error;
  }
  return {
    served,
    gateway,
    key: wide.key,
    narrowKey: narrow.key,
    env,
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await served.close();
    },
  };
}

function auth(key: string): HeadersInit {
  return { authorization: `Bearer ${key}` };
}

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const body = await response.json();
  for (const field of ["type", "title", "status", "detail", "code"]) {
    assert.ok(field in body, field);
  }
  assert.equal(body.status, response.status);
  return body;
}

/** Sends a request line exactly as written (fetch would normalise the path first). */
async function rawRequest(
  base: string,
  target: string,
  headers: Record<string, string>,
): Promise<number> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const lines = [`GET ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close"];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const buffer = new Uint8Array(4096);
    let text = "";
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (text.includes("\r\n")) break;
    }
    return Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

const SECRETS_SEEN: string[] = [DEFAULT_CLIENT_SECRET];
const OUTPUTS: string[] = [];

Deno.test("gateway over deno serve: caller auth, offices and problem+json", async () => {
  await using f = await fixture();
  SECRETS_SEEN.push(f.key, f.narrowKey);
  const url = `${f.gateway.url}/aqc/${OFFICE}/v1/echo/x`;

  let response = await fetch(url);
  assert.equal(response.status, 401);
  assert.equal((await problemOf(response)).code, "unauthorized");
  assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
  for (
    const header of [
      "Bearer wrong-key",
      `Basic ${btoa("a:b")}`,
      "Bearer",
      `Bearer ${f.key}x`,
      `bearer  ${f.key} extra`,
    ]
  ) {
    response = await fetch(url, { headers: { authorization: header } });
    assert.equal(response.status, 401, header);
    assert.equal((await problemOf(response)).code, "unauthorized");
  }
  response = await fetch(`${f.gateway.url}/aqc/${OTHER}/v1/echo/x`, { headers: auth(f.narrowKey) });
  assert.equal(response.status, 403);
  assert.equal((await problemOf(response)).code, "office_forbidden");
  response = await fetch(`${f.gateway.url}/aqc/NCE1A09/v1/echo/x`, { headers: auth(f.key) });
  assert.equal(response.status, 400);
  assert.equal((await problemOf(response)).code, "office_invalid");
  // Tenant isolation: the narrow key reaches its office in any casing or encoding, never another.
  for (const spelling of ["nce1a0955", "Nce1A0955", "%4ECE1A0955", "%6ece1a0955"]) {
    response = await fetch(`${f.gateway.url}/aqc/${spelling}/v1/echo/x`, {
      headers: auth(f.narrowKey),
    });
    assert.equal(response.status, 200, spelling);
    assert.equal((await response.json() as EchoBody).office, OFFICE);
  }
  for (const spelling of ["delai08aa", "%44ELAI08AA", "DELAI08AA%20"]) {
    response = await fetch(`${f.gateway.url}/aqc/${spelling}/v1/echo/x`, {
      headers: auth(f.narrowKey),
    });
    assert.ok([400, 403].includes(response.status), spelling);
    await response.body?.cancel();
  }
  response = await fetch(`${f.gateway.url}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok" });
  response = await fetch(`${f.gateway.url}/readyz`);
  assert.equal(response.status, 200);
  assert.equal((await response.json()).store, "memory");
  response = await fetch(`${f.gateway.url}/nothing-here`);
  assert.equal(response.status, 404);
  await problemOf(response);
  response = await fetch(`${f.gateway.url}/token/${OFFICE}`, {
    method: "POST",
    headers: auth(f.key),
  });
  assert.equal(response.status, 404, "POST /token is off by default");
  await response.body?.cancel();
  assert.equal(f.served.simulator.counters.apiRequests, 4);
  OUTPUTS.push(f.gateway.output());
});

Deno.test("gateway proxies GET and POST with path, query, body and end-to-end headers intact", async () => {
  await using f = await fixture();
  SECRETS_SEEN.push(f.key, f.narrowKey);
  let response = await fetch(
    `${f.gateway.url}/aqc/${OFFICE}/v1/echo/search/a%2Fb?q=caf%C3%A9&x=1&x=2`,
    {
      headers: {
        ...auth(f.key),
        "ama-client-ref": "kept",
        "x-custom": "dropped",
        "accept-language": "fr-FR",
        connection: "x-hop-named",
        "x-hop-named": "dropped",
        "proxy-authorization": "Basic c2VjcmV0",
        "keep-alive": "timeout=5",
        "x-forwarded-for": "203.0.113.7",
      },
    },
  );
  assert.equal(response.status, 200);
  const timing = response.headers.get("server-timing") ?? "";
  assert.match(timing, /token;dur=[\d.]+;desc="endpoint"/);
  assert.match(timing, /upstream;dur=[\d.]+/);
  let echo = await response.json() as EchoBody;
  const token = f.served.simulator.latestToken(OFFICE)!.accessToken;
  assert.equal(echo.method, "GET");
  assert.equal(echo.path, "/v1/echo/search/a%2Fb");
  assert.equal(echo.search, "?q=caf%C3%A9&x=1&x=2");
  assert.equal(echo.headers.authorization, `Bearer ${token}`);
  assert.equal(echo.headers["ama-client-ref"], "kept");
  assert.equal(echo.headers["accept-language"], "fr-FR");
  for (
    const dropped of [
      "x-hop-named",
      "proxy-authorization",
      "keep-alive",
      "x-custom",
      "x-forwarded-for",
    ]
  ) {
    assert.equal(echo.headers[dropped], undefined, dropped);
  }
  assert.ok(!JSON.stringify(echo.headers).includes(f.key), "the caller's key never reaches AQC");

  const order = JSON.stringify({
    data: { type: "flight-order", travelers: [{ name: "Zoë Ångström" }] },
  });
  response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/orders`, {
    method: "POST",
    headers: { ...auth(f.key), "content-type": "application/vnd.amadeus+json" },
    body: order,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("server-timing") ?? "", /desc="l1"/);
  echo = await response.json() as EchoBody;
  assert.equal(echo.method, "POST");
  assert.equal(echo.body, order);
  assert.equal(echo.headers["content-type"], "application/vnd.amadeus+json");
  assert.equal(echo.headers.authorization, `Bearer ${token}`);

  // Real AQC-shaped APIs through the gateway, and upstream errors passed through unchanged.
  response = await fetch(
    `${f.gateway.url}/aqc/${OFFICE}/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1`,
    { headers: auth(f.key) },
  );
  assert.equal(response.status, 200);
  assert.ok((await response.json()).data.length > 0);
  response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/teapot`, {
    headers: { ...auth(f.key), "ama-sim-echo-status": "418" },
  });
  assert.equal(response.status, 418);
  await response.body?.cancel();
  f.served.simulator.configure({
    apiFailure: {
      mode: "status",
      status: 400,
      body: '{"errors":[{"code":477,"title":"INVALID FORMAT"}]}',
      remaining: 1,
    },
  });
  response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v2/shopping/flight-offers`, {
    headers: auth(f.key),
  });
  assert.equal(response.status, 400);
  assert.equal(await response.text(), '{"errors":[{"code":477,"title":"INVALID FORMAT"}]}');
  assert.equal(f.served.simulator.counters.tokenRequests, 1);
  OUTPUTS.push(f.gateway.output());
});

Deno.test("gateway refuses traversal and host escapes before any upstream call", async () => {
  await using f = await fixture();
  SECRETS_SEEN.push(f.key, f.narrowKey);
  const attempts = [
    `/aqc/${OFFICE}/../../etc/passwd`,
    `/aqc/${OFFICE}/v1/../../x`,
    `/aqc/${OFFICE}/v1/%2e%2e/%2e%2e/x`,
    `/aqc/${OFFICE}/v1/%2E%2E%2F%2E%2E%2Fx`,
    `/aqc/${OFFICE}/v1/..%2f..%2fx`,
    `/aqc/${OFFICE}/v1/%252e%252e/x`,
    `/aqc/${OFFICE}//evil.example/x`,
    `/aqc/${OFFICE}/%2F%2Fevil.example/x`,
    `/aqc/${OFFICE}/v1\\..\\..\\x`,
    `/aqc/${OFFICE}/v1/%5c..%5cx`,
    `/aqc/${OFFICE}/https://evil.example/x`,
    `/aqc/${OFFICE}/http:%2F%2Fevil.example/x`,
    `http://evil.example/aqc/${OFFICE}/v1/echo/x`,
    `/aqc/${OFFICE}/v1/%00/x`,
  ];
  for (const target of attempts) {
    const status = await rawRequest(f.gateway.url, target, auth(f.key) as Record<string, string>);
    if (target.startsWith("http://evil")) {
      // An absolute-form target is resolved by the server to its own host: it may be
      // served, but only ever against AQC_API_URL (asserted below by the echo).
      assert.ok(status !== 0, target);
      continue;
    }
    assert.ok([400, 404].includes(status), `${target} → ${status}`);
  }
  const counters = f.served.simulator.counters;
  assert.ok(
    counters.apiLog.every((e) => e.path === "/v1/echo/x"),
    "only the benign absolute-form call arrived",
  );
  assert.ok(counters.apiRequests <= 1);
  OUTPUTS.push(f.gateway.output());
});

Deno.test("gateway answers 413 for oversized bodies, declared or streamed", async () => {
  await using f = await fixture();
  SECRETS_SEEN.push(f.key, f.narrowKey);
  let response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/big`, {
    method: "POST",
    headers: auth(f.key),
    body: "x".repeat(5000),
  });
  assert.equal(response.status, 413);
  assert.equal((await problemOf(response)).code, "payload_too_large");
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(1000).fill(65));
      controller.close();
    },
  });
  response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/big`, {
    method: "POST",
    headers: auth(f.key),
    body: chunks,
  });
  assert.equal(response.status, 413);
  await response.body?.cancel();
  response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/fits`, {
    method: "POST",
    headers: auth(f.key),
    body: "x".repeat(4096),
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(f.served.simulator.counters.apiRequests, 1);
  OUTPUTS.push(f.gateway.output());
});

Deno.test("gateway maps token failures to problem+json with Retry-After", async () => {
  await using f = await fixture();
  SECRETS_SEEN.push(f.key, f.narrowKey);
  f.served.simulator.configure({ tokenFailure: { mode: "invalid_client" } });
  let response = await fetch(`${f.gateway.url}/aqc/${OFFICE}/v1/echo/x`, { headers: auth(f.key) });
  assert.equal(response.status, 502);
  assert.equal((await problemOf(response)).code, "credentials_rejected");
  assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  f.served.simulator.configure({ tokenFailure: { mode: "rate_limited", retryAfterSeconds: 120 } });
  response = await fetch(`${f.gateway.url}/aqc/${OTHER}/v1/echo/x`, { headers: auth(f.key) });
  assert.equal(response.status, 503);
  assert.equal((await problemOf(response)).code, "rate_limited");
  assert.equal(response.headers.get("retry-after"), "120");
  assert.equal(f.served.simulator.counters.apiRequests, 0);
  OUTPUTS.push(f.gateway.output());
});

Deno.test("POST /token/:office answers only when AQC_EXPOSE_TOKENS=true", async () => {
  await using f = await fixture({ AQC_EXPOSE_TOKENS: "true" });
  SECRETS_SEEN.push(f.key, f.narrowKey);
  let response = await fetch(`${f.gateway.url}/token/${OFFICE}`, { method: "POST" });
  assert.equal(response.status, 401);
  await response.body?.cancel();
  response = await fetch(`${f.gateway.url}/token/${OTHER}`, {
    method: "POST",
    headers: auth(f.narrowKey),
  });
  assert.equal(response.status, 403);
  await response.body?.cancel();
  response = await fetch(`${f.gateway.url}/token/${OFFICE}`, {
    method: "POST",
    headers: auth(f.narrowKey),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const body = await response.json();
  assert.equal(body.access_token, f.served.simulator.latestToken(OFFICE)?.accessToken);
  assert.equal(body.token_type, "Bearer");
  assert.ok(body.expires_in > 1700 && body.expires_in < 1800);
  OUTPUTS.push(f.gateway.output());
});

Deno.test("a bad configuration exits at start-up naming the variable, never a secret", async () => {
  const { entry } = await generateGatewayKey("web");
  const base = {
    AQC_API_URL: "https://test.travel.api.amadeus.com",
    AQC_CLIENT_ID: "client",
    AQC_CLIENT_SECRET: "start-up-secret-never-printed",
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  };
  const cases: Array<[Record<string, string>, string]> = [
    [{ ...base, AQC_CLIENT_SECRET: "" }, "AQC_CLIENT_SECRET is required"],
    [{ ...base, AQC_API_URL: "http://api.example.com" }, "AQC_API_URL must use https"],
    [{ ...base, AQC_GATEWAY_KEYS: "[]" }, "AQC_GATEWAY_KEYS must be a non-empty JSON array"],
    [
      {
        ...base,
        UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
        UPSTASH_REDIS_REST_TOKEN: "upstash-secret-never-printed",
      },
      "AQC_TOKEN_KEY is required when Upstash is configured",
    ],
    [
      { ...base, AQC_TOKEN_KEY: "start-up-secret-never-printed" },
      "AQC_TOKEN_KEY must be base64url of 32 random bytes",
    ],
  ];
  for (const [env, expected] of cases) {
    const { code, output } = await runMainExpectingExit(env);
    assert.equal(code, 1, output);
    assert.ok(output.includes(expected), output);
    for (const secret of ["start-up-secret-never-printed", "upstash-secret-never-printed"]) {
      assert.ok(!output.includes(secret), output);
    }
  }
});

Deno.test("nothing secret in the gateway's output during the suite", () => {
  assert.ok(OUTPUTS.length >= 5, "the other tests ran first");
  const tokens = OUTPUTS.join("\n");
  for (const secret of SECRETS_SEEN) assert.ok(!tokens.includes(secret), "a secret was printed");
  assert.ok(!/Bearer [A-Za-z0-9]/.test(tokens), "a bearer was printed");
});
