/**
 * `createUpstashTokenStore` / `createUpstashRedis`: the client options do what the docs say,
 * checked on the wire against the bridge and a connection-dropping TCP server; the attempt
 * and timeout rules also for the gateway's own client (`createUpstashRest`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { AqcError } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { createUpstashRedis, createUpstashTokenStore } from "../src/store/upstash_client.ts";
import { StoreError } from "../src/store/store_error.ts";
import { UpstashTokenStore } from "../src/store/upstash_store.ts";
import { startUpstash } from "./helpers/redis.ts";
import { UPSTASH_CLIENTS } from "./helpers/upstash_clients.ts";

/** A TCP server on 127.0.0.1 that accepts and at once closes every connection (a network error). */
function droppingServer(): { url: string; accepted: () => number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        conn.close();
      }
    } catch {
      // Listener closed.
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    accepted: () => accepted,
    close: async () => {
      listener.close();
      await loop;
    },
  };
}

Deno.test("createUpstashRedis makes exactly one attempt on a network error (retry: false makes two)", async () => {
  const server = droppingServer();
  try {
    const store = createUpstashTokenStore({
      url: server.url,
      token: "t",
      encryptionKey: generateTokenKey(),
      timeoutMs: 2_000,
    });
    const error = await store.read("A".repeat(43)).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof StoreError && error.reason === "unreachable", String(error));
    assert.equal(server.accepted(), 1, "one attempt");

    // What the README used to promise as "no retries".
    const before = server.accepted();
    const legacy = new Redis({
      url: server.url,
      token: "t",
      retry: false,
      enableTelemetry: false,
      enableAutoPipelining: false,
    });
    await assert.rejects(legacy.get("k"));
    assert.equal(server.accepted() - before, 2, "retry: false still retries once in 1.39.0");
  } finally {
    await server.close();
  }
});

for (const { name, create } of UPSTASH_CLIENTS) {
  Deno.test(`${name} makes exactly one attempt on a network error`, async () => {
    const server = droppingServer();
    try {
      const store = new UpstashTokenStore({
        redis: create({ url: server.url, token: "t", timeoutMs: 2_000 }),
        encryptionKey: generateTokenKey(),
      });
      const error = await store.read("A".repeat(43)).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof StoreError && error.reason === "unreachable", String(error));
      assert.equal(server.accepted(), 1, "one attempt");
    } finally {
      await server.close();
    }
  });
}

for (const { name, create } of UPSTASH_CLIENTS) {
  Deno.test(`${name}: each call has its own timeout and a slow answer is a StoreError`, async () => {
    // Far slower than the 100 ms timeout: a call that is not cut would succeed, not fail.
    await using upstash = await startUpstash({ habits: { latencyMs: [2_000, 2_000] } });
    const store = new UpstashTokenStore({
      redis: create({ url: upstash.url, token: upstash.token, timeoutMs: 100 }),
      encryptionKey: generateTokenKey(),
    });
    for (let i = 0; i < 2; i++) {
      const error = await store.acquireLease("A".repeat(43), "me", 1_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      // Behaviour, not speed: the answer would have come (a success), so a timeout error means
      // the call was cut, and it is cut again on the second call (a fresh signal per call).
      assert.ok(error instanceof StoreError && error.reason === "unreachable", String(error));
    }
    upstash.bridge.setHabits({});
    assert.equal(await store.acquireLease("A".repeat(43), "me", 1_000), true);
  });
}

Deno.test("createUpstashTokenStore refuses bad settings with config_invalid, never quoting them", () => {
  const key = generateTokenKey();
  const cases: [string, Parameters<typeof createUpstashTokenStore>[0]][] = [
    ["url", { url: "not a url", token: "secret-token", encryptionKey: key }],
    ["token", { url: "https://x.upstash.io", token: " ", encryptionKey: key }],
    ["timeout", {
      url: "https://x.upstash.io",
      token: "secret-token",
      encryptionKey: key,
      timeoutMs: 0,
    }],
    ["key", { url: "https://x.upstash.io", token: "secret-token", encryptionKey: "short" }],
  ];
  for (const [name, options] of cases) {
    assert.throws(
      () => createUpstashTokenStore(options),
      (e) =>
        e instanceof AqcError && e.code === "config_invalid" && !e.message.includes("secret-token"),
      name,
    );
  }
  assert.ok(createUpstashRedis({ url: "https://x.upstash.io", token: "t" }));
});

Deno.test("createUpstashTokenStore runs under --allow-env narrowed to its three variables", async () => {
  await using upstash = await startUpstash();
  const script = new URL("./fixtures/upstash_env/main.ts", import.meta.url).pathname;
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-env=UPSTASH_REDIS_REST_URL,UPSTASH_REDIS_REST_TOKEN,AQC_TOKEN_KEY",
        "--allow-net=127.0.0.1",
        "--allow-read",
        script,
        ...args,
      ],
      env: {
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        AQC_TOKEN_KEY: generateTokenKey(),
        NO_COLOR: "1",
      },
      stdin: "null",
    }).output();
  const factory = await run([]);
  const decoder = new TextDecoder();
  assert.equal(factory.code, 0, decoder.decode(factory.stderr));
  assert.equal(decoder.decode(factory.stdout).trim(), "ok");
  // The Node build reads process.env at construction; report what it does here.
  const node = await run(["node"]);
  console.log(
    `Node build of @upstash/redis under narrowed --allow-env: exit ${node.code}` +
      (node.code === 0 ? "" : ` (${decoder.decode(node.stderr).split("\n")[0].slice(0, 120)})`),
  );
});
