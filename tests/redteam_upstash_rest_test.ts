/**
 * REDTEAM of the gateway's Upstash client (src/store/upstash_rest.ts): answers that never
 * come, come slowly, are huge, are not JSON, are of the wrong type, redirect, or quote the
 * token; tokens a header cannot carry; an injected transport. Each ends in an error the
 * store classifies, never a hang, an unbounded buffer or a leaked token.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { classifyStoreError, StoreError } from "../src/store/store_error.ts";
import { createUpstashRest, MAX_ANSWER_BYTES } from "../src/store/upstash_rest.ts";
import { UpstashTokenStore } from "../src/store/upstash_store.ts";

const TOKEN = "AYnPASQgNjQ5YzQ1ZjMtSecretRestToken0123456789abcdef";
const ID = "A".repeat(43);

function serve(handler: (req: Request) => Response | Promise<Response>) {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    requests++;
    return handler(req);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: () => requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Resolves after `ms`, or as soon as `signal` aborts (the client gave up). */
function later(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function rejection(call: Promise<unknown>): Promise<Error> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof Error, `expected a rejection, got ${String(error)}`);
  return error;
}

function assertNoToken(error: Error): void {
  const text = `${error.name} ${error.message} ${String(error.cause ?? "")} ${error.stack ?? ""}`;
  assert.ok(!text.includes(TOKEN), text);
  assert.ok(!text.includes("SecretRestToken"), text);
}

Deno.test("a slow answer: each call is cut by its own timeout, one request each", async () => {
  // The answer would come, a success: a call that is not cut would succeed, not fail.
  await using server = serve(async (req) => {
    await later(3_000, req.signal);
    return new Response('{"result":1}');
  });
  const redis = createUpstashRest({ url: server.url, token: TOKEN, timeoutMs: 100 });
  for (let i = 1; i <= 2; i++) {
    const error = await rejection(redis.eval("return 1", [], []));
    assert.equal(error.name, "TimeoutError");
    assert.equal(classifyStoreError("read", error).reason, "unreachable");
    assertNoToken(error);
    assert.equal(server.requests(), i, "one attempt per call");
  }
});

Deno.test("an answer whose body is slow to end is cut by the same timeout", async () => {
  const cancelled = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await using server = serve(() =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"result":'));
          // The rest would come, a valid answer: only a cut read fails.
          timer = setTimeout(() => {
            controller.enqueue(new TextEncoder().encode("1}"));
            controller.close();
          }, 3_000);
        },
        cancel() {
          clearTimeout(timer);
          cancelled.resolve();
        },
      }),
      { headers: { "content-type": "application/json" } },
    )
  );
  const redis = createUpstashRest({ url: server.url, token: TOKEN, timeoutMs: 100 });
  const error = await rejection(redis.mget("k"));
  assert.equal(error.name, "TimeoutError");
  await cancelled.promise;
});

Deno.test("a huge answer is refused once past the cap, not buffered (a gzip bomb too)", async () => {
  const big = "[" + '"QUFBQQ==",'.repeat(MAX_ANSWER_BYTES / 10) + "null]";
  const gzipped = await new Response(
    new Blob([`{"result":${big}}`]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  assert.ok(gzipped.length < MAX_ANSWER_BYTES / 50, "small on the wire");
  for (const compressed of [false, true]) {
    await using server = serve(() =>
      new Response(compressed ? gzipped : `{"result":${big}}`, {
        headers: {
          "content-type": "application/json",
          ...(compressed ? { "content-encoding": "gzip" } : {}),
        },
      })
    );
    // The raw client: the answer is a valid result, refused for its size alone.
    const redis = createUpstashRest({ url: server.url, token: TOKEN, timeoutMs: 5_000 });
    const error = await rejection(redis.eval("return 1", [], []));
    assert.match(error.message, /more than \d+ bytes/);
    assert.equal(classifyStoreError("read", error).reason, "bad_answer");
  }
  // Just under the cap is still read.
  const fits = `{"result":"${"QUFB".repeat((MAX_ANSWER_BYTES - 100) / 4)}"}`;
  await using server = serve(() => new Response(fits));
  const redis = createUpstashRest({ url: server.url, token: TOKEN, timeoutMs: 5_000 });
  assert.equal(
    ((await redis.eval("return 1", [], [])) as string).length,
    (fits.length - 13) / 4 * 3,
  );
});

Deno.test("results of the wrong type are the store's bad answers, never a crash", async () => {
  let body = "";
  await using server = serve(() => new Response(body));
  const store = new UpstashTokenStore({
    redis: createUpstashRest({ url: server.url, token: TOKEN, timeoutMs: 2_000 }),
    encryptionKey: generateTokenKey(),
  });
  const now = Date.now();
  const cases: [string, () => Promise<unknown>][] = [
    ['{"result":1}', () => store.read(ID)], // MGET answering a number
    ['{"result":["a"]}', () => store.read(ID)], // wrong length
    ['{"result":"T0s="}', () => store.acquireLease(ID, "o", 1_000)], // a string, not 0/1
    ['{"result":{"n":1}}', () => store.releaseLease(ID, "o")], // an object: null
    [
      '{"result":1}',
      () => store.writeFailure(ID, { code: "rate_limited", at: now, until: now + 1e3 }),
    ],
    ['{"result":true}', () => store.read(ID, { fresh: true })],
    ['{"result":1e999}', () => store.deleteToken(ID, "t")], // Infinity
  ];
  for (const [answer, call] of cases) {
    body = answer;
    const error = await rejection(call());
    assert.ok(error instanceof StoreError && error.reason === "bad_answer", `${answer}: ${error}`);
  }
});

Deno.test("an answer or a proxy page quoting the token: no error message carries it", async () => {
  await using server = serve((req) =>
    new Response(
      JSON.stringify({ error: `WRONGPASS ${req.headers.get("authorization")} is not allowed` }),
      { status: 401 },
    )
  );
  const redis = createUpstashRest({ url: server.url, token: TOKEN, timeoutMs: 2_000 });
  const error = await rejection(redis.mget("k"));
  assertNoToken(error);
  assert.match(error.message, /^WRONGPASS Bearer \[token\] is not allowed$/);
  assert.equal(classifyStoreError("read", error).message, "Upstash answered WRONGPASS (read)");

  await using page = serve((req) =>
    new Response(`<html>${req.headers.get("authorization")}</html>`, { status: 502 })
  );
  const html = await rejection(
    createUpstashRest({ url: page.url, token: TOKEN, timeoutMs: 2_000 }).mget("k"),
  );
  assertNoToken(html);
  assert.equal(classifyStoreError("read", html).reason, "bad_answer");

  // A transport whose error quotes the header (as Deno's invalid-header error does).
  const transport = ((_: unknown, init?: RequestInit) => {
    const auth = new Headers(init?.headers).get("authorization");
    return Promise.reject(new Error(`Invalid header value: "${auth}"`));
  }) as typeof fetch;
  const thrown = await rejection(
    createUpstashRest({ url: "https://x.upstash.io", token: TOKEN, fetch: transport }).mget("k"),
  );
  assertNoToken(thrown);
  assert.ok(thrown instanceof TypeError);
  assert.equal(classifyStoreError("read", thrown).reason, "unreachable");
});

Deno.test("every redirect is refused, and nothing is resent to its target", async () => {
  await using target = serve(() => new Response('{"result":"OK"}'));
  for (const status of [301, 302, 303, 307, 308]) {
    await using server = serve(() =>
      new Response(null, { status, headers: { location: `${target.url}/` } })
    );
    const redis = createUpstashRest({ url: server.url, token: TOKEN, timeoutMs: 2_000 });
    const error = await rejection(redis.set("k", "v", { px: 1_000 }));
    assert.equal(classifyStoreError("writeFailure", error).reason, "bad_answer", String(status));
  }
  assert.equal(target.requests(), 0);
});

Deno.test("tokens a header cannot carry as they are, and bad settings, are config_invalid", () => {
  for (
    const token of [
      "",
      "   ",
      "se\ncret-token",
      "secret token",
      "sécret-token",
      "se\0cret",
      " secret-token",
    ]
  ) {
    assert.throws(
      () => createUpstashRest({ url: "https://x.upstash.io", token }),
      (e) => e instanceof AqcError && e.code === "config_invalid" && !e.message.includes("secret"),
      JSON.stringify(token),
    );
  }
  for (
    const url of [
      "http://x.upstash.io",
      "https://u:p@x.upstash.io",
      "not a url",
      "https://x.upstash.io/?_token=1",
    ]
  ) {
    assert.throws(
      () => createUpstashRest({ url, token: TOKEN }),
      (e) => e instanceof AqcError && e.code === "config_invalid",
      url,
    );
  }
  for (const timeoutMs of [0, -1, Number.NaN, Infinity]) {
    assert.throws(() =>
      createUpstashRest({ url: "https://x.upstash.io", token: TOKEN, timeoutMs })
    );
  }
  // What Upstash tokens are made of works (base64 and base64url).
  assert.ok(createUpstashRest({ url: "https://x.upstash.io", token: "AX+/=_-.~9" }));
});

Deno.test("connection refused: one attempt, unreachable, no token", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}`;
  listener.close();
  const error = await rejection(
    createUpstashRest({ url, token: TOKEN, timeoutMs: 2_000 }).mget("k"),
  );
  assert.ok(error instanceof TypeError);
  assertNoToken(error);
  assert.equal(classifyStoreError("read", error).reason, "unreachable");
});
