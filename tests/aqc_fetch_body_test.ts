/**
 * createAqcFetch request bodies: what is sent, and sent again after a 401, for each kind of
 * body `fetch` accepts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createAqcFetch, TokenManager } from "../src/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

/** A `createAqcFetch` whose first token is revoked: a call is refused with 401, then replayed. */
async function revokedFetch(served: ServedSimulator) {
  const tokens = new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
  });
  served.simulator.revoke((await tokens.getToken(OFFICE)).accessToken);
  return { tokens, aqc: createAqcFetch({ tokens }) };
}

async function sendTwice(served: ServedSimulator, init: RequestInit) {
  const { aqc } = await revokedFetch(served);
  const response = await aqc(OFFICE, "/v1/echo/body", { method: "POST", ...init });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const log = served.simulator.counters.apiLog;
  assert.equal(log.length, 2);
  assert.equal(log[0].status, 401);
  return log;
}

Deno.test("a string body is replayed as it is, with fetch's default content type", async () => {
  await using served = await serveSimulator();
  const [first, replay] = await sendTwice(served, { body: '{"a":"Zürich ✈"}' });
  assert.equal(first.body, '{"a":"Zürich ✈"}');
  assert.equal(replay.body, first.body);
  assert.equal(replay.headers["content-type"], "text/plain;charset=UTF-8");
  assert.equal(first.headers["content-type"], replay.headers["content-type"]);
});

Deno.test("a caller's content type wins over the derived one", async () => {
  await using served = await serveSimulator();
  const [first, replay] = await sendTwice(served, {
    body: new URLSearchParams({ q: "NCE JFK" }),
    headers: { "content-type": "application/x-custom" },
  });
  assert.equal(first.body, "q=NCE+JFK");
  assert.equal(replay.body, first.body);
  assert.equal(replay.headers["content-type"], "application/x-custom");
});

Deno.test("form bodies keep the content type fetch derives (multipart boundary included)", async () => {
  await using served = await serveSimulator();
  const params = await sendTwice(served, { body: new URLSearchParams({ q: "NCE JFK" }) });
  for (const entry of params) {
    assert.equal(entry.body, "q=NCE+JFK");
    assert.equal(entry.headers["content-type"], "application/x-www-form-urlencoded;charset=UTF-8");
  }
  await served.simulator.reset();
  const form = new FormData();
  form.set("passenger", "ADA LOVELACE");
  const multipart = await sendTwice(served, { body: form });
  for (const entry of multipart) {
    const type = entry.headers["content-type"];
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(type)?.[1];
    assert.ok(boundary, type);
    assert.ok(entry.body.includes(`--${boundary}`) && entry.body.includes("ADA LOVELACE"));
  }
  assert.equal(multipart[0].body, multipart[1].body);
});

Deno.test("bytes are sent and replayed unchanged", async () => {
  await using served = await serveSimulator();
  const log = await sendTwice(served, { body: new TextEncoder().encode("abc\u0000✈") });
  assert.equal(log[0].body, "abc\u0000✈");
  assert.equal(log[1].body, log[0].body);
});

Deno.test("bytes changed by the caller after the call are not what the replay sends", async () => {
  await using served = await serveSimulator();
  const { tokens, aqc } = await revokedFetch(served);
  const bytes = new TextEncoder().encode("original");
  const call = aqc(OFFICE, "/v1/echo/body", { method: "POST", body: bytes });
  // The caller reuses its buffer as soon as the call is under way, before AQC's 401.
  bytes.fill(0x21);
  const response = await call;
  await response.body?.cancel();
  const log = served.simulator.counters.apiLog;
  assert.deepEqual(log.map((entry) => entry.status), [401, 200]);
  assert.equal(log[0].body, "original");
  assert.equal(log[1].body, "original", "the replay sends the bytes as they were");
  await tokens.whenIdle();
});
