/**
 * Protocol tests of the local Upstash bridge (dev/bridge) against a real redis-server: exact
 * response shapes with raw fetch, and the real @upstash/redis client end to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import {
  type LocalUpstash,
  rawScan,
  redisCommand,
  RespError,
  startRedis,
  startUpstash,
} from "./helpers/redis.ts";

type Upstash = LocalUpstash;

function client(upstash: Upstash, options: { autoPipelining?: boolean } = {}): Redis {
  return new Redis({
    url: upstash.url,
    token: upstash.token,
    enableTelemetry: false,
    // Network errors are not retried, so a stopped bridge fails at once (and no timer leaks).
    retry: false,
    enableAutoPipelining: options.autoPipelining ?? false,
  });
}

interface Answer {
  status: number;
  contentType: string | null;
  body: unknown;
}

async function post(
  upstash: Upstash,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(upstash.url + path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${upstash.token}`,
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: JSON.parse(text),
  };
}

const B64 = { "upstash-encoding": "base64" };

function b64(text: string): string {
  return new TextEncoder().encode(text).toBase64();
}

Deno.test("bridge answers single commands with SRH/Upstash shapes", async () => {
  await using upstash = await startUpstash();

  assert.deepEqual(await post(upstash, "/", ["SET", "k", "v", "PX", 60_000]), {
    status: 200,
    contentType: "application/json",
    body: { result: "OK" },
  });
  assert.deepEqual((await post(upstash, "/", ["GET", "k"])).body, { result: "v" });
  assert.deepEqual((await post(upstash, "/", ["GET", "missing"])).body, { result: null });
  assert.deepEqual((await post(upstash, "/", ["INCR", "n"])).body, { result: 1 });
  assert.deepEqual((await post(upstash, "/", ["INCRBY", "n", 41])).body, { result: 42 });

  // Base64: every string, status replies included; integers and nulls untouched.
  assert.deepEqual((await post(upstash, "/", ["SET", "k", "Zürich ✈ 東京"], B64)).body, {
    result: "T0s=",
  });
  assert.deepEqual((await post(upstash, "/", ["GET", "k"], B64)).body, {
    result: b64("Zürich ✈ 東京"),
  });
  assert.deepEqual((await post(upstash, "/", ["PING"], B64)).body, { result: b64("PONG") });
  assert.deepEqual((await post(upstash, "/", ["INCR", "n"], B64)).body, { result: 43 });
  assert.deepEqual((await post(upstash, "/", ["GET", "missing"], B64)).body, { result: null });
  assert.deepEqual(
    (await post(upstash, "/", ["EVAL", "return {1, 'a', {'b', false}}", 0], B64)).body,
    { result: [1, b64("a"), [b64("b"), null]] },
  );

  // Errors are 400 and never encoded.
  const wrongType = await post(upstash, "/", ["LPUSH", "k", "x"], B64);
  assert.equal(wrongType.status, 400);
  assert.match((wrongType.body as { error: string }).error, /^WRONGTYPE /);
  const unknown = await post(upstash, "/", ["NOSUCHCOMMAND"]);
  assert.equal(unknown.status, 400);
  assert.match((unknown.body as { error: string }).error, /^ERR unknown command/);

  // Integers beyond 2^53 keep every digit.
  await post(upstash, "/", ["SET", "big", "9007199254740993"]);
  const big = await fetch(upstash.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${upstash.token}` },
    body: JSON.stringify(["INCR", "big"]),
  });
  assert.equal(await big.text(), '{"result":9007199254740994}');

  // Upstash's path form.
  const path = await fetch(`${upstash.url}/set/pk/hello?EX=100`, {
    headers: { authorization: `Bearer ${upstash.token}` },
  });
  assert.deepEqual(await path.json(), { result: "OK" });
  const ttl = await fetch(`${upstash.url}/ttl/pk`, {
    headers: { authorization: `Bearer ${upstash.token}` },
  });
  assert.deepEqual(await ttl.json(), { result: 100 });
});

Deno.test("bridge pipelines keep errors inline and transactions are atomic", async () => {
  await using upstash = await startUpstash();

  const pipeline = await post(upstash, "/pipeline", [
    ["SET", "s", "1"],
    ["LPUSH", "s", "x"],
    ["MULTI"],
    ["INCR", "s"],
    ["GET", "s"],
  ], B64);
  assert.equal(pipeline.status, 200);
  const entries = pipeline.body as { result?: unknown; error?: string }[];
  assert.deepEqual(entries[0], { result: "T0s=" });
  assert.match(entries[1].error!, /^WRONGTYPE /);
  assert.match(entries[2].error!, /^ERR MULTI is not supported/);
  assert.deepEqual(entries.slice(3), [{ result: 2 }, { result: b64("2") }]);
  assert.deepEqual((await post(upstash, "/pipeline", [])).body, []);

  // Runtime errors inside a transaction are inline; the other commands ran.
  const multi = await post(upstash, "/multi-exec", [
    ["SET", "t", "1"],
    ["LPUSH", "t", "x"],
    ["INCR", "t"],
  ]);
  assert.equal(multi.status, 200);
  const results = multi.body as { result?: unknown; error?: string }[];
  assert.deepEqual(results[0], { result: "OK" });
  assert.match(results[1].error!, /^WRONGTYPE /);
  assert.deepEqual(results[2], { result: 2 });

  // A command Redis rejects while queueing discards the whole transaction: 400, nothing ran.
  const aborted = await post(upstash, "/multi-exec", [["SET", "u", "1"], ["NOSUCHCOMMAND"]]);
  assert.equal(aborted.status, 400);
  assert.match((aborted.body as { error: string }).error, /^EXECABORT /);
  assert.deepEqual((await post(upstash, "/", ["EXISTS", "u"])).body, { result: 0 });

  const refused = await post(upstash, "/multi-exec", [["SET", "u", "1"], ["WATCH", "u"]]);
  assert.equal(refused.status, 400);
  assert.deepEqual((await post(upstash, "/", ["EXISTS", "u"])).body, { result: 0 });

  // Atomicity under concurrency: readers never see a and b differ.
  const redis = client(upstash);
  const writers = Array.from({ length: 200 }, () => redis.multi().incr("a").incr("b").exec());
  const readers = Array.from({ length: 200 }, () => redis.multi().get("a").get("b").exec());
  await Promise.all(writers);
  for (const [a, b] of await Promise.all(readers)) assert.equal(a, b);
  assert.deepEqual(await redis.mget("a", "b"), [200, 200]);
});

Deno.test("bridge checks the bearer token, the content type and the body", async () => {
  await using upstash = await startUpstash();
  const send = (headers: Record<string, string>, body = '["GET","k"]') =>
    fetch(upstash.url, { method: "POST", headers, body }).then(async (response) => ({
      status: response.status,
      body: await response.json(),
    }));
  const json = { "content-type": "application/json" };

  assert.deepEqual(await send(json), {
    status: 401,
    body: { error: "Missing/Invalid authorization header" },
  });
  for (const token of ["wrong", upstash.token + "x", upstash.token.slice(0, -1), ""]) {
    const answer = await send({ ...json, authorization: `Bearer ${token}` });
    assert.equal(answer.status, 401, token);
  }
  assert.equal((await send({ ...json, authorization: `Basic ${upstash.token}` })).status, 401);
  const path = await fetch(`${upstash.url}/get/k`);
  assert.equal(path.status, 401);
  await path.body?.cancel();

  const auth = { authorization: `Bearer ${upstash.token}` };
  assert.deepEqual(await send({ ...auth, "content-type": "text/plain" }), {
    status: 400,
    body: { error: "Invalid content type. Expected application/json." },
  });
  assert.equal((await send({ ...auth, ...json }, "not json")).status, 400);
  assert.equal((await send({ ...auth, ...json }, "[]")).status, 400);
  assert.equal((await send({ ...auth, ...json }, '{"a":1}')).status, 400);
  assert.equal((await send({ ...auth, ...json }, '["SET","k",{"a":1}]')).status, 400);
  assert.deepEqual(await send({ ...auth, "content-type": "application/json; charset=utf-8" }), {
    status: 200,
    body: { result: null },
  });

  const welcome = await fetch(upstash.url);
  assert.equal(welcome.status, 200);
  assert.equal(await welcome.json(), "Welcome to Serverless Redis HTTP!");
  const put = await fetch(upstash.url + "/pipeline", { method: "PUT", headers: auth });
  assert.equal(put.status, 404);
  await put.body?.cancel();
});

Deno.test("@upstash/redis works against the bridge", async (t) => {
  await using upstash = await startUpstash();

  for (const autoPipelining of [false, true]) {
    await t.step(`enableAutoPipelining: ${autoPipelining}`, async () => {
      await upstash.redis.flushAll();
      const redis = client(upstash, { autoPipelining });

      // SET NX PX: "OK" when written, null when the key exists.
      assert.equal(await redis.set("lease", "owner-1", { nx: true, px: 5_000 }), "OK");
      assert.equal(await redis.set("lease", "owner-2", { nx: true, px: 5_000 }), null);
      assert.equal(await redis.get("lease"), "owner-1");
      const pttl = await redis.pttl("lease");
      assert.ok(pttl > 4_000 && pttl <= 5_000, `pttl ${pttl}`);
      assert.equal(await redis.incr("counter"), 1);
      assert.equal(await redis.incr("counter"), 2);
      assert.equal(await redis.get("missing"), null);

      // Compare-and-delete.
      const release = "if redis.call('GET', KEYS[1]) == ARGV[1] then " +
        "return redis.call('DEL', KEYS[1]) else return 0 end";
      assert.equal(await redis.eval(release, ["lease"], ["owner-2"]), 0);
      assert.equal(await redis.eval(release, ["lease"], ["owner-1"]), 1);
      assert.equal(await redis.exists("lease"), 0);
      // EVALSHA first, EVAL on NOSCRIPT (the script cache starts empty on every Redis start).
      const script = redis.createScript<number>(release);
      await redis.set("lease", "owner-3");
      assert.equal(await script.exec(["lease"], ["owner-3"]), 1);
      assert.equal(await script.evalsha(["lease"], ["owner-3"]), 0);
      assert.deepEqual(await redis.eval("return {KEYS[1], ARGV[1], 7}", ["k"], ["é"]), [
        "k",
        "é",
        7,
      ]);

      // Non-ASCII, control characters and JSON-looking strings survive the base64 round trip.
      const values = ["Zürich ✈ 東京", '\u0000\r\n\t"\\', "🛫".repeat(1000), ""];
      for (const value of values) {
        await redis.set("text", value);
        assert.equal(await redis.get("text"), value);
      }
      // Client quirk: its base64 decoder (a default TextDecoder) drops a leading byte order mark
      // that the bridge does send.
      await redis.set("text", "\uFEFFbom");
      assert.equal(await redis.get("text"), "bom");
      assert.deepEqual((await post(upstash, "/", ["GET", "text"], B64)).body, {
        result: b64("\uFEFFbom"),
      });
      // Automatic deserialization parses JSON: objects come back as objects.
      await redis.set("json", { a: 1, b: ["x"] });
      assert.deepEqual(await redis.get("json"), { a: 1, b: ["x"] });
      const raw = new Redis({
        url: upstash.url,
        token: upstash.token,
        enableTelemetry: false,
        retry: false,
        automaticDeserialization: false,
      });
      assert.equal(await raw.get("json"), '{"a":1,"b":["x"]}');

      // Concurrent commands (batched into one /pipeline request with auto-pipelining).
      const many = await Promise.all(
        Array.from({ length: 50 }, (_, i) => redis.set(`p${i}`, `v${i}`, { px: 60_000 })),
      );
      assert.ok(many.every((reply) => reply === "OK"));
      assert.deepEqual(
        await Promise.all(Array.from({ length: 50 }, (_, i) => redis.get(`p${i}`))),
        Array.from({ length: 50 }, (_, i) => `v${i}`),
      );

      // Explicit pipeline: errors throw by default, or stay inline with keepErrors.
      const p = redis.pipeline();
      p.set("x", "1");
      p.lpush("x", "y");
      p.incr("x");
      await assert.rejects(p.exec(), /WRONGTYPE/);
      const q = redis.pipeline();
      q.set("x", "1");
      q.lpush("x", "y");
      q.incr("x");
      const kept = await q.exec({ keepErrors: true });
      assert.deepEqual(kept[0], { error: undefined, result: "OK" });
      assert.match(String(kept[1].error), /^WRONGTYPE/);
      assert.deepEqual(kept[2], { error: undefined, result: 2 });

      // Transaction.
      const tx = await redis.multi().set("m", "1").incr("m").get("m").exec();
      assert.deepEqual(tx, ["OK", 2, 2]);

      // Server errors reach the caller.
      await assert.rejects(redis.lpush("m", "x"), /WRONGTYPE/);
    });
  }
});

Deno.test("bridge is binary safe", async () => {
  await using upstash = await startUpstash();
  const bytes = new Uint8Array([0, 255, 13, 10, 0xc3, 0x28, 0xef, 0xbb, 0xbf, 1, 2, 3]);
  // Status replies come back as bytes, like bulk strings.
  const set = await redisCommand(upstash.redis.port, ["SET", "bin", bytes]);
  assert.equal(new TextDecoder().decode(set as Uint8Array), "OK");

  // Base64 carries the exact bytes, including invalid UTF-8.
  const answer = await post(upstash, "/", ["GET", "bin"], B64);
  assert.equal(
    Uint8Array.fromBase64((answer.body as { result: string }).result).toString(),
    bytes.toString(),
  );
  const inArray = await post(upstash, "/", ["MGET", "bin", "none"], B64);
  assert.deepEqual(inArray.body, { result: [bytes.toBase64(), null] });

  // Without encoding the value is UTF-8 text (invalid sequences replaced), still valid JSON.
  const text = await post(upstash, "/", ["GET", "bin"]);
  assert.equal(text.status, 200);
  assert.equal(
    (text.body as { result: string }).result,
    new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes),
  );

  // Large values in both directions.
  const large = "é".repeat(600_000);
  await post(upstash, "/", ["SET", "large", large]);
  assert.equal(
    ((await post(upstash, "/", ["GET", "large"])).body as { result: string }).result,
    large,
  );
  const stored = await redisCommand(upstash.redis.port, ["STRLEN", "large"]);
  assert.equal(stored, 1_200_000);
  const items = Array.from({ length: 20_000 }, (_, i) => `item-${i}-✈`);
  await post(upstash, "/", ["RPUSH", "list", ...items]);
  assert.deepEqual((await post(upstash, "/", ["LRANGE", "list", 0, -1])).body, { result: items });
});

Deno.test("bridge answers 500 while Redis is down or hung, and recovers", async () => {
  await using upstash = await startUpstash({ replyTimeoutMs: 300 });
  const redis = client(upstash);
  assert.equal(await redis.set("k", "v"), "OK");

  await upstash.redis.stop();
  const down = await post(upstash, "/", ["GET", "k"]);
  assert.deepEqual(down, {
    status: 500,
    contentType: "application/json",
    body: { error: "Unable to connect to the Redis server" },
  });
  assert.equal((await post(upstash, "/pipeline", [["GET", "k"]])).status, 500);
  assert.equal((await post(upstash, "/multi-exec", [["GET", "k"]])).status, 500);
  await assert.rejects(redis.get("k"), /Unable to connect to the Redis server/);

  // Same port, fresh and empty server: the bridge reconnects on its own.
  await upstash.redis.start();
  assert.equal(await redis.get("k"), null);
  assert.equal(await redis.set("k", "v2"), "OK");
  assert.equal(await redis.get("k"), "v2");

  // A hung Redis: the bridge gives up after its reply timeout.
  await upstash.redis.pause();
  const started = performance.now();
  const hung = await post(upstash, "/", ["GET", "k"]);
  assert.equal(hung.status, 500);
  assert.ok(performance.now() - started < 2_000);
  await upstash.redis.resume();
  assert.equal(await redis.get("k"), "v2");

  // Bridge itself stopped: connection refused; started again on the same URL.
  const url = upstash.bridge.url;
  await upstash.bridge.stop();
  await assert.rejects(redis.get("k"));
  await upstash.bridge.start();
  assert.equal(upstash.bridge.url, url);
  assert.equal(await redis.get("k"), "v2");
});

Deno.test("rawScan reads keys, values and TTLs straight from Redis", async () => {
  await using upstash = await startUpstash();
  const redis = client(upstash);
  await redis.set("aqc:v1:tok:abc", "sealed-value", { px: 60_000 });
  await redis.set("aqc:v1:lease:abc", "owner", { px: 5_000 });
  await redis.hset("other:hash", { field: "value" });
  await redis.rpush("other:list", "a", "b");

  const all = await rawScan(upstash.redis.port);
  assert.deepEqual(all.map((entry) => [entry.key, entry.type]), [
    ["aqc:v1:lease:abc", "string"],
    ["aqc:v1:tok:abc", "string"],
    ["other:hash", "hash"],
    ["other:list", "list"],
  ]);
  const [lease, token, hash, list] = all;
  assert.ok(lease.value instanceof Uint8Array);
  assert.equal(lease.text, "owner");
  assert.ok(lease.ttlMs > 4_000 && lease.ttlMs <= 5_000);
  assert.equal(token.text, "sealed-value");
  assert.ok(token.ttlMs > 59_000 && token.ttlMs <= 60_000);
  assert.equal(hash.value, '{"field":"value"}');
  assert.equal(hash.ttlMs, -1);
  assert.equal(list.value, '["a","b"]');

  const scoped = await rawScan(upstash.redis.port, { match: "aqc:v1:*" });
  assert.equal(scoped.length, 2);

  const reply = await redisCommand(upstash.redis.port, ["LPUSH", "aqc:v1:tok:abc", "x"]);
  assert.ok(reply instanceof RespError);
});

Deno.test("dev/bridge/main.ts serves from SRH_* variables", async () => {
  await using redis = await startRedis();
  const token = "main-test-token";
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      new URL("../dev/bridge/main.ts", import.meta.url)
        .pathname,
    ],
    env: { SRH_TOKEN: token, SRH_CONNECTION_STRING: redis.url, SRH_PORT: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      line += value;
    }
    assert.match(line, /^bridge: http:\/\/127\.0\.0\.1:\d+ -> redis:\/\/127\.0\.0\.1:\d+/);
    assert.ok(!line.includes(token));
    const url = line.match(/http:\/\/[^ ]+/)![0];
    const redisClient = new Redis({ url, token, enableTelemetry: false, retry: false });
    assert.equal(await redisClient.set("k", "v"), "OK");
    assert.equal(await redisClient.get("k"), "v");
    child.kill("SIGTERM");
    await reader.cancel();
    assert.equal((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
  }

  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", new URL("../dev/bridge/main.ts", import.meta.url).pathname, "--help"],
    env: {},
  }).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /SRH_CONNECTION_STRING/);
  const missing = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", new URL("../dev/bridge/main.ts", import.meta.url).pathname],
    env: { SRH_TOKEN: "" },
  }).output();
  assert.equal(missing.code, 2);
  assert.match(new TextDecoder().decode(missing.stderr), /SRH_TOKEN is required/);
  for (
    const [name, value, message] of [
      ["SRH_LATENCY_MS", "soon", /SRH_LATENCY_MS must be/],
      ["SRH_REPLICA_LAG_MS", "200", /needs SRH_REPLICA_URL/],
      ["SRH_FAULT", "meteor", /fault must be/],
    ]
  ) {
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-env", new URL("../dev/bridge/main.ts", import.meta.url).pathname],
      env: { SRH_TOKEN: "t", [name as string]: value as string },
    }).output();
    assert.equal(bad.code, 2, name as string);
    assert.match(new TextDecoder().decode(bad.stderr), message as RegExp);
  }
});

Deno.test("bridge habits: a lagging replica, sync tokens, EVAL on the primary, Upstash faults", async () => {
  await using upstash = await startUpstash({ replica: true });
  const auth = { authorization: `Bearer ${upstash.token}`, "content-type": "application/json" };
  const control = (body: unknown) =>
    fetch(`${upstash.url}/__bridge/habits`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify(body),
    });
  // Long enough that a loaded machine cannot stall past it between a write and the next read.
  assert.equal((await control({ replicaLagMs: 1_000 })).status, 200);
  for (
    const bad of [{ replicaLagMs: -1 }, { nope: 1 }, { fault: "other" }, { latencyMs: [5, 1] }]
  ) {
    const answer = await control(bad);
    assert.equal(answer.status, 400, JSON.stringify(bad));
    await answer.body?.cancel();
  }
  const unauthorized = await fetch(`${upstash.url}/__bridge/habits`, {
    method: "POST",
    body: "{}",
  });
  assert.equal(unauthorized.status, 401);
  await unauthorized.body?.cancel();

  const send = async (command: unknown[], sync?: string) => {
    const response = await fetch(upstash.url, {
      method: "POST",
      headers: { ...auth, ...(sync === undefined ? {} : { "upstash-sync-token": sync }) },
      body: JSON.stringify(command),
    });
    const token = response.headers.get("upstash-sync-token");
    return { status: response.status, body: await response.json(), token };
  };
  const set = await send(["SET", "k", "v"]);
  assert.deepEqual(set.body, { result: "OK" });
  assert.ok(set.token !== null && Number(set.token) > 0, "a write returns a sync token");
  assert.deepEqual((await send(["GET", "k"])).body, { result: null }, "the replica lags");
  assert.deepEqual((await send(["MGET", "k"])).body, { result: [null] });
  assert.deepEqual((await send(["GET", "k"], set.token!)).body, { result: "v" }, "sync token");
  const script = ["EVAL", "return redis.call('GET', KEYS[1])", 1, "k"];
  assert.deepEqual((await send(script)).body, { result: "v" }, "EVAL runs on the primary");
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  assert.deepEqual((await send(["GET", "k"])).body, { result: "v" }, "replica caught up");
  await send(["SET", "t", "x", "PX", 60_000]);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const ttl = (await send(["PTTL", "t"])).body as { result: number };
  assert.ok(ttl.result > 50_000 && ttl.result <= 60_000, `replica keeps the TTL: ${ttl.result}`);
  assert.ok(upstash.bridge.stats().replicaReads >= 4);

  upstash.bridge.setHabits({ fault: "quota" });
  const quota = await send(["GET", "k"]);
  assert.equal(quota.status, 400);
  assert.match((quota.body as { error: string }).error, /^ERR max requests limit exceeded/);
  upstash.bridge.setHabits({ fault: "noperm" });
  assert.deepEqual((await send(["GET", "k"])).body, { result: "v" }, "reads still work");
  const denied = await send(["SET", "k", "w"]);
  assert.equal(denied.status, 400);
  assert.match((denied.body as { error: string }).error, /^NOPERM .*'set'/);
  upstash.bridge.setHabits({ fault: "html502" });
  const page = await fetch(upstash.url, { method: "POST", headers: auth, body: '["GET","k"]' });
  assert.equal(page.status, 502);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  assert.match(await page.text(), /502 Bad Gateway/);
  upstash.bridge.setHabits({ latencyMs: [150, 150] });
  const started = performance.now();
  assert.deepEqual((await send(["PING"])).body, { result: "PONG" });
  assert.ok(performance.now() - started >= 140, "the latency habit delays each request");
  assert.ok(upstash.bridge.stats().faults >= 3);
});
