/**
 * Differential test of the gateway's Upstash client (src/store/upstash_rest.ts) against the
 * client it replaces, `@upstash/redis` 1.39.0 as `createUpstashRedis` configures it: both talk
 * to the same recording loopback server, which checks what each sends (method, path, body,
 * headers, sync tokens) for every call the store and the guards make, and what each makes of
 * the same canned answers (results, Upstash errors, pages that are not JSON). The few answers
 * they treat differently are listed, each with what both do.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { OpsRedis } from "../src/gateway/shared/ops_redis.ts";
import { RateLimiter } from "../src/gateway/rate_limit/limiter.ts";
import { UpstreamHolds } from "../src/gateway/upstream_429/holds.ts";
import { classifyStoreError } from "../src/store/store_error.ts";
import { createUpstashRedis } from "../src/store/upstash_client.ts";
import { createUpstashRest } from "../src/store/upstash_rest.ts";
import { type UpstashRedisClient, UpstashTokenStore } from "../src/store/upstash_store.ts";

const TOKEN = "AX_test-Token.with+odd/chars=";

type Make = (o: { url: string; token: string; timeoutMs: number }) => UpstashRedisClient;
const CLIENTS: [string, Make][] = [["@upstash/redis", createUpstashRedis], [
  "upstash_rest",
  createUpstashRest,
]];

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Canned {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** A loopback server that records each request and answers what `answer` gives. */
function recordingServer(answer: (index: number) => Canned) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      // Each client gets its own server: the port in `host` is the one header that differs.
      headers: Object.fromEntries([...req.headers].filter(([name]) => name !== "host")),
      body: await req.text(),
    });
    const canned = answer(seen.length - 1);
    return new Response(canned.body, {
      status: canned.status,
      headers: { "content-type": "application/json", ...canned.headers },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

type Call = { method: "mget" | "set" | "eval"; args: unknown[] };

/** The client calls the store and the guards really make, captured from them. */
async function capturedCalls(): Promise<Call[]> {
  const calls: Call[] = [];
  const recorder: UpstashRedisClient = {
    mget: (...keys) => {
      calls.push({ method: "mget", args: keys });
      return Promise.resolve(keys.map(() => null));
    },
    set: (key, value, options) => {
      calls.push({ method: "set", args: [key, value, options] });
      return Promise.resolve("OK");
    },
    eval: (script, keys, args) => {
      calls.push({ method: "eval", args: [script, keys, args] });
      if (script.includes("MGET")) return Promise.resolve(keys.map(() => null));
      return Promise.resolve(script.includes("INCR") ? [1, 1_000] : 1);
    },
  };
  // Two keys: a read is an MGET of four names (token and failure under each key).
  const store = new UpstashTokenStore({
    redis: recorder,
    encryptionKey: generateTokenKey(),
    previousEncryptionKeys: [generateTokenKey()],
  });
  const id = "A".repeat(43);
  const now = Date.now();
  await store.read(id);
  await store.read(id, { fresh: true });
  await store.writeToken(id, {
    accessToken: "AccessT0ken",
    issuedAt: now,
    expiresAt: now + 60_000,
    usableUntil: now + 60_000,
  });
  await store.deleteToken(id, "AccessT0ken");
  await store.writeFailure(id, { code: "rate_limited", at: now, until: now + 5_000 });
  await store.acquireLease(id, "owner-1", 2_000);
  await store.releaseLease(id, "owner-1");
  const ops = new OpsRedis(recorder, { timeoutMs: 1_000 });
  const limiter = new RateLimiter({ redis: ops, scope: "app" });
  await limiter.take("key", "NCE1A0955", { requests: 5, windowSeconds: 60, perOffice: true });
  const holds = new UpstreamHolds({ redis: ops, scope: "app" });
  await holds.record("NCE1A0955", 3);
  await holds.poll("NCE1A0955");
  // SET with NX, which the store does not send today but the interface allows.
  calls.push({ method: "set", args: ["k", "v", { px: 1_500, nx: true }] });
  return calls;
}

function invoke(client: UpstashRedisClient, call: Call): Promise<unknown> {
  const a = call.args as never[];
  if (call.method === "mget") return client.mget(...(a as string[]));
  if (call.method === "set") return client.set(a[0], a[1], a[2]);
  return client.eval(a[0], a[1], a[2]);
}

// Answers that move the sync token: adopted from a 200, reset by a 200 without one, kept
// across an error answer.
function syncAnswer(index: number): Canned {
  switch (index % 4) {
    case 0:
      return { status: 200, body: '{"result":1}', headers: { "upstash-sync-token": `s${index}` } };
    case 1:
      return { status: 200, body: '{"result":"T0s="}' };
    case 2:
      return {
        status: 400,
        body: '{"error":"ERR boom"}',
        headers: { "upstash-sync-token": `x${index}` },
      };
    default:
      return {
        status: 200,
        body: '{"result":[null]}',
        headers: { "upstash-sync-token": `s${index}` },
      };
  }
}

Deno.test("both clients send the same requests for every call the store and the guards make", async () => {
  const calls = await capturedCalls();
  assert.deepEqual(
    [...new Set(calls.map((c) => c.method))].sort(),
    ["eval", "mget", "set"],
  );
  const sent: Record<string, Seen[]> = {};
  for (const [name, make] of CLIENTS) {
    await using server = recordingServer(syncAnswer);
    const client = make({ url: server.url, token: TOKEN, timeoutMs: 2_000 });
    for (const call of calls) await invoke(client, call).catch(() => undefined);
    sent[name] = server.seen;
  }
  const [upstash, rest] = [sent["@upstash/redis"], sent["upstash_rest"]];
  assert.equal(upstash.length, calls.length, "one request per call");
  assert.equal(rest.length, calls.length, "one request per call");
  for (let i = 0; i < calls.length; i++) {
    // Every header, not only the relevant ones: both go through the same runtime `fetch`.
    assert.deepEqual(rest[i], upstash[i], `request ${i} (${calls[i].method})`);
  }
  // What they agree on, spelled out (so that both being wrong the same way fails too).
  const first = rest[0];
  assert.equal(first.method, "POST");
  assert.equal(first.path, "/");
  assert.equal(first.headers["authorization"], `Bearer ${TOKEN}`);
  assert.equal(first.headers["content-type"], "application/json");
  assert.equal(first.headers["upstash-encoding"], "base64");
  assert.equal(JSON.parse(first.body)[0], "mget");
  assert.equal(JSON.parse(first.body).length, 5);
  const tokens = rest.map((r) => r.headers["upstash-sync-token"]);
  assert.deepEqual(tokens.slice(0, 6), ["", "s0", "", "", "s3", "s4"]);
  assert.deepEqual(JSON.parse(rest.at(-1)!.body), ["set", "k", "v", "nx", "px", 1_500]);
  assert.ok(rest.every((r) => !Object.keys(r.headers).some((h) => h.includes("telemetry"))));
});

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** Answers both clients read alike. */
const SAME: [string, Canned][] = [
  ["an MGET of records and misses", {
    status: 200,
    body: JSON.stringify({ result: [b64("v2.abc.def"), null, b64("x"), null] }),
  }],
  ["OK, base64", { status: 200, body: JSON.stringify({ result: b64("OK") }) }],
  ["OK, plain", { status: 200, body: '{"result":"OK"}' }],
  ["an integer", { status: 200, body: '{"result":1}' }],
  ["zero", { status: 200, body: '{"result":0}' }],
  ["a negative integer (PTTL)", { status: 200, body: '{"result":-2}' }],
  ["null", { status: 200, body: '{"result":null}' }],
  ["a nested array", {
    status: 200,
    body: JSON.stringify({ result: [1, b64("a"), null, [2, b64("b"), "OK"]] }),
  }],
  ["an object result", { status: 200, body: '{"result":{"a":1}}' }],
  ["a string that is not base64", { status: 200, body: '{"result":"not base64!"}' }],
  ["UTF-8", { status: 200, body: JSON.stringify({ result: b64("é€") }) }],
  ["a result beside an empty error", { status: 200, body: '{"result":1,"error":""}' }],
  ["quota (400)", {
    status: 400,
    body: '{"error":"ERR max requests limit exceeded. Limit: 10000, Usage: 10000"}',
  }],
  ["daily quota (400)", { status: 400, body: '{"error":"ERR max daily request limit exceeded"}' }],
  ["NOPERM (400)", {
    status: 400,
    body: `{"error":"NOPERM this user has no permissions to run the 'eval' command"}`,
  }],
  ["an error in a 200", { status: 200, body: '{"error":"WRONGTYPE Operation against a key"}' }],
  ["a script error (400)", {
    status: 400,
    body: '{"error":"ERR user_script:1: Script attempted"}',
  }],
  ["unauthorized (401)", { status: 401, body: '{"error":"Unauthorized"}' }],
  ["Redis down (500)", { status: 500, body: '{"error":"Unable to connect to the Redis server"}' }],
  ["an error status without an error", { status: 500, body: '{"result":1}' }],
  ["an HTML 502", {
    status: 502,
    body: "<html><head><title>502 Bad Gateway</title></head><body></body></html>",
    headers: { "content-type": "text/html" },
  }],
  ["a 200 that is not JSON", { status: 200, body: "OK" }],
  ["an empty 200", { status: 200, body: "" }],
  ["a truncated JSON", { status: 200, body: '{"result":[' }],
];

/** Answers @upstash/redis reads by accident; the gateway's client calls them bad answers. */
const DIFFERENT: [string, Canned, { upstash: string; rest: string }][] = [
  // @upstash/redis throws TypeError("Request did not return a result"), which reads as a
  // network error; the store's own words for it are "a reply of the wrong shape".
  ["neither result nor error", { status: 200, body: "{}" }, {
    upstash: "unreachable",
    rest: "bad_answer",
  }],
  ["JSON null", { status: 200, body: "null" }, { upstash: "unreachable", rest: "bad_answer" }],
  ["a boolean result", { status: 200, body: '{"result":true}' }, {
    upstash: "unreachable",
    rest: "bad_answer",
  }],
  ["a pipeline answer", { status: 200, body: '[{"result":1}]' }, {
    upstash: "unreachable",
    rest: "bad_answer",
  }],
  // @upstash/redis reads `null.error` (a TypeError); the gateway's client: an error answer.
  ["JSON null with an error status", { status: 500, body: "null" }, {
    upstash: "unreachable",
    rest: "failed",
  }],
];

async function outcome(client: UpstashRedisClient): Promise<unknown> {
  try {
    return { value: await client.eval("return 1", ["k"], []) };
  } catch (error) {
    const classified = classifyStoreError("read", error);
    return { reason: classified.reason, message: classified.message };
  }
}

Deno.test("both clients read the same answers to the same results and store errors", async () => {
  let current: Canned = { status: 200, body: "{}" };
  await using server = recordingServer(() => current);
  const [upstash, rest] = CLIENTS.map(([, make]) =>
    make({ url: server.url, token: TOKEN, timeoutMs: 2_000 })
  );
  for (const [name, canned] of SAME) {
    current = canned;
    const expected = await outcome(upstash);
    assert.deepEqual(await outcome(rest), expected, name);
  }
  // A few spelled out, as the store sees them.
  const expect = async (canned: Canned, value: unknown) => {
    current = canned;
    assert.deepEqual(await outcome(rest), value, canned.body);
  };
  await expect(SAME[0][1], { value: ["v2.abc.def", null, "x", null] });
  await expect(SAME[1][1], { value: "OK" });
  await expect(SAME[7][1], { value: [1, "a", null, [2, "b", "OK"]] });
  await expect(SAME[10][1], { value: "é€" });
  await expect(SAME[12][1], {
    reason: "quota",
    message: "Upstash request quota exceeded (read)",
  });
  await expect(SAME[14][1], {
    reason: "permission",
    message: "Upstash token may not run this command (read)",
  });
  await expect(SAME[20][1], {
    reason: "bad_answer",
    message: "Upstash answered something that is not JSON (read)",
  });
  await expect(SAME[15][1], { reason: "failed", message: "Upstash answered WRONGTYPE (read)" });
  for (const [name, canned, reasons] of DIFFERENT) {
    current = canned;
    assert.equal((await outcome(upstash) as { reason: string }).reason, reasons.upstash, name);
    assert.equal((await outcome(rest) as { reason: string }).reason, reasons.rest, name);
  }
});

Deno.test("a redirect: @upstash/redis follows it with the token, the gateway's client refuses it", async () => {
  await using elsewhere = recordingServer(() => ({ status: 200, body: '{"result":"OK"}' }));
  await using server = recordingServer(() => ({
    status: 307,
    body: "",
    headers: { location: `${elsewhere.url}/` },
  }));
  const [upstash, rest] = CLIENTS.map(([, make]) =>
    make({ url: server.url, token: TOKEN, timeoutMs: 2_000 })
  );
  assert.deepEqual(await outcome(rest), {
    reason: "bad_answer",
    message: "Upstash answered an unexpected reply (read)",
  });
  assert.equal(elsewhere.seen.length, 0, "nothing resent elsewhere");
  assert.deepEqual(await outcome(upstash), { value: "OK" });
  assert.equal(elsewhere.seen.length, 1, "@upstash/redis resent the command");
  console.log(
    `@upstash/redis after a cross-origin 307: authorization ${
      elsewhere.seen[0].headers["authorization"] === undefined ? "dropped by fetch" : "resent"
    }`,
  );
});
