/**
 * How every kind of token endpoint answer is classified (#11.4), against a real HTTP
 * server on loopback that answers exactly what each case needs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, type AqcErrorCode, TokenManager } from "../src/mod.ts";
import { requestToken } from "../src/token/request.ts";

const OFFICE = "NCE1A0955";
const SECRET = "classification-secret-value";

interface Answer {
  status: number;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A token URL that answers `answer()` and counts requests; stopped by `await using`. */
function serveAnswer(answer: () => Answer): {
  url: string;
  count: () => number;
  [Symbol.asyncDispose](): Promise<void>;
} {
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      requests++;
      await request.body?.cancel();
      const a = answer();
      const headers = new Headers(a.headers);
      if (a.contentType) headers.set("content-type", a.contentType);
      return new Response(a.body ?? null, { status: a.status, headers });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    count: () => requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({
  status,
  body: JSON.stringify(body),
  contentType: "application/json",
  ...(headers ? { headers } : {}),
});

const CASES: { name: string; answer: Answer; code: AqcErrorCode; retryAfter?: number }[] = [
  {
    name: "401 invalid_client",
    answer: json(401, { error: "invalid_client" }),
    code: "credentials_rejected",
  },
  {
    name: "400 unauthorized_client",
    answer: json(400, { error: "unauthorized_client", code: 38187 }),
    code: "credentials_rejected",
  },
  {
    name: "400 invalid_grant",
    answer: json(400, { error: "invalid_grant" }),
    code: "token_request_rejected",
  },
  {
    name: "400 invalid_request",
    answer: json(400, { error: "invalid_request" }),
    code: "token_request_rejected",
  },
  {
    name: "400 unsupported_grant_type",
    answer: json(400, { error: "unsupported_grant_type" }),
    code: "token_request_rejected",
  },
  {
    name: "400 invalid_scope",
    answer: json(400, { error: "invalid_scope" }),
    code: "token_request_rejected",
  },
  {
    name: "404 plain",
    answer: { status: 404, body: "Not Found" },
    code: "token_endpoint_misconfigured",
  },
  {
    name: "405 HTML",
    answer: { status: 405, body: "<html>nope</html>", contentType: "text/html" },
    code: "token_endpoint_misconfigured",
  },
  {
    name: "400 JSON without error",
    answer: json(400, { errors: [{ code: 1, title: "Bad" }] }),
    code: "token_endpoint_misconfigured",
  },
  {
    name: "403 unregistered error name",
    answer: json(403, { error: "forbidden_here" }),
    code: "token_endpoint_misconfigured",
  },
  {
    name: "401 HTML login page",
    answer: { status: 401, body: "<html>login</html>".repeat(10_000), contentType: "text/html" },
    code: "token_endpoint_misconfigured",
  },
  {
    name: "302 redirect",
    answer: { status: 302, headers: { location: "https://elsewhere.example/" } },
    code: "token_endpoint_misconfigured",
  },
  {
    name: "503 with Retry-After",
    answer: json(503, { errors: [] }, { "retry-after": "7" }),
    code: "token_endpoint_unavailable",
    retryAfter: 7,
  },
  {
    name: "429 with Retry-After",
    answer: json(429, { errors: [] }, { "retry-after": "3" }),
    code: "rate_limited",
    retryAfter: 3,
  },
  {
    name: "400 temporarily_unavailable",
    answer: json(400, { error: "temporarily_unavailable" }),
    code: "token_endpoint_unavailable",
  },
];

Deno.test("requestToken classifies every token endpoint answer into its code", async () => {
  for (const c of CASES) {
    await using server = serveAnswer(() => c.answer);
    const error = await requestToken(
      { apiUrl: server.url, clientId: "id", clientSecret: SECRET },
      OFFICE,
    ).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AqcError, `${c.name}: an AqcError`);
    assert.equal(error.code, c.code, c.name);
    assert.equal(error.retryAfterSeconds, c.retryAfter, `${c.name}: retryAfterSeconds`);
    assert.ok(!error.message.includes(SECRET), `${c.name}: no secret in the message`);
    assert.ok(/^[A-Z]/.test(error.message) && !error.message.endsWith("."), c.name);
  }
});

Deno.test("a misconfigured token URL is negative-cached briefly, not for the credentials' 60 s", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  await using server = serveAnswer(() => ({ status: 404, body: "Not Found" }));
  const tokens = new TokenManager({
    credentials: { apiUrl: server.url, clientId: "id", clientSecret: SECRET },
    now: () => time,
  });
  await assert.rejects(
    tokens.getToken(OFFICE),
    (e: AqcError) => e.code === "token_endpoint_misconfigured" && e.status === 404,
  );
  assert.equal(server.count(), 1, "not retried");
  time += 9_000;
  await assert.rejects(
    tokens.getToken(OFFICE),
    (e: AqcError) => e.code === "token_endpoint_misconfigured" && e.retryAfterSeconds === 1,
  );
  assert.equal(server.count(), 1, "negative-cached");
  time += 1_001;
  await assert.rejects(
    tokens.getToken(OFFICE),
    (e: AqcError) => e.code === "token_endpoint_misconfigured",
  );
  assert.equal(server.count(), 2, "asked again after 10 s");
  await tokens.whenIdle();
});

Deno.test("Retry-After on a token endpoint 503 is honoured and reported", async () => {
  await using server = serveAnswer(() => json(503, {}, { "retry-after": "30" }));
  const tokens = new TokenManager({
    credentials: { apiUrl: server.url, clientId: "id", clientSecret: SECRET },
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 20,
    retryDeadlineMs: 2_000,
  });
  // 30 s is beyond the deadline: one request, then fail fast with the hint, and the
  // failure stands for the 30 s the endpoint asked for.
  await assert.rejects(
    tokens.getToken(OFFICE),
    (e: AqcError) => e.code === "token_endpoint_unavailable" && e.retryAfterSeconds === 30,
  );
  await assert.rejects(
    tokens.getToken(OFFICE),
    (e: AqcError) => e.code === "token_endpoint_unavailable" && (e.retryAfterSeconds ?? 0) >= 29,
  );
  assert.equal(server.count(), 1);
  await tokens.whenIdle();
});
