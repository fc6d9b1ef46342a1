/**
 * UpstashTokenStore against what only production Upstash does (replayed by the bridge's
 * habits): a lagging read replica, Upstash-only errors, a slow answer, and tampering by
 * anyone who can write to Redis. Each test that builds a client runs with both: `@upstash/redis`
 * (`./upstash`) and the gateway's own (`upstash_rest.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import type { StoredToken } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { REDIS_KEY_PREFIX } from "../src/store/upstash_store.ts";
import { UpstashTokenStore } from "../src/store/upstash_store.ts";
import { UPSTASH_CLIENTS } from "./helpers/upstash_clients.ts";
import { StoreError } from "../src/store/store_error.ts";
import { importSealingKey, keyName, parseEncryptionKey } from "../src/store/seal.ts";
import { rawScan, redisCommand, startUpstash } from "./helpers/redis.ts";

const ID = "A".repeat(43);

function token(accessToken: string, lifetimeMs = 60_000): StoredToken {
  const now = Date.now();
  return { accessToken, issuedAt: now, expiresAt: now + lifetimeMs, usableUntil: now + lifetimeMs };
}

async function redisKey(encryptionKey: string, kind: string, id: string): Promise<string> {
  const name = await keyName(await importSealingKey(parseEncryptionKey(encryptionKey)), id);
  return `${REDIS_KEY_PREFIX}${kind}:${name}`;
}

for (const { name, create } of UPSTASH_CLIENTS) {
  Deno.test(`a fresh read sees another isolate's write at once through a lagging replica; a plain read may not (${name})`, async () => {
    await using upstash = await startUpstash({
      replica: true,
      // Long enough that a loaded machine cannot stall past it between a write and the next read.
      habits: { replicaLagMs: 1_000, syncTokens: true },
    });
    const encryptionKey = generateTokenKey();
    const make = () => new UpstashTokenStore({ redis: create(upstash), encryptionKey });
    const writer = make();
    const reader = make(); // another isolate: its own client, no sync token of the writer's
    await writer.writeToken(ID, token("PeerToken"));
    assert.equal((await reader.read(ID)).token, undefined, "plain read: the replica lags");
    assert.equal((await reader.read(ID, { fresh: true })).token?.accessToken, "PeerToken");
    // The writer's own client reads its write (read-your-writes through the sync token).
    assert.equal((await writer.read(ID)).token?.accessToken, "PeerToken");
    // Once the lag has passed the replica has it too.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await make().read(ID)).token?.accessToken, "PeerToken");

    // Compare-and-delete and failures go to the primary: visible to a fresh read at once.
    assert.equal(await reader.deleteToken(ID, "PeerToken"), true);
    assert.equal((await make().read(ID, { fresh: true })).token, undefined);
    await writer.writeFailure(ID, {
      code: "rate_limited",
      at: Date.now(),
      until: Date.now() + 5e3,
    });
    assert.equal((await make().read(ID, { fresh: true })).failure?.code, "rate_limited");
    assert.ok(upstash.bridge.stats().replicaReads >= 2);
  });

  Deno.test(`Upstash-only errors are StoreErrors with a clear, secret-free message (${name})`, async () => {
    await using upstash = await startUpstash();
    const encryptionKey = generateTokenKey();
    const store = new UpstashTokenStore({ redis: create(upstash), encryptionKey });
    const cases = [
      { fault: "quota", reason: "quota", message: /^Upstash request quota exceeded \(read\)$/ },
      { fault: "html502", reason: "bad_answer", message: /not JSON \(read\)$/ },
    ] as const;
    for (const { fault, reason, message } of cases) {
      upstash.bridge.setHabits({ fault });
      const error = await store.read(ID).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof StoreError, fault);
      assert.equal(error.reason, reason);
      assert.match(error.message, message);
    }
    // A read-only token: reads work, writes are NOPERM.
    upstash.bridge.setHabits({ fault: "noperm" });
    assert.deepEqual(await store.read(ID), {});
    const denied = await store.writeToken(ID, token("T0kenValue")).then(() => undefined, (e) => e);
    assert.ok(denied instanceof StoreError);
    assert.equal(denied.reason, "permission");
    assert.ok(!denied.message.includes("T0kenValue") && !denied.message.includes(REDIS_KEY_PREFIX));
    const lease = await store.acquireLease(ID, "owner", 1_000).then(() => undefined, (e) => e);
    assert.ok(lease instanceof StoreError && lease.reason === "permission");
    upstash.bridge.setHabits({});
    await store.writeToken(ID, token("Works"));
    assert.equal((await store.read(ID)).token?.accessToken, "Works");
  });
}

Deno.test("a client built with an AbortSignal object: a timed-out lease call is an error, not 'held by a peer'", async () => {
  await using upstash = await startUpstash({ habits: { latencyMs: [300, 300] } });
  const redis = new Redis({
    url: upstash.url,
    token: upstash.token,
    retry: { retries: 0 },
    enableTelemetry: false,
    // Without auto-pipelining the abort comes back as a plain successful reply.
    enableAutoPipelining: false,
    // The object form: @upstash/redis 1.39.0 answers an abort with a successful reply.
    signal: AbortSignal.timeout(100),
  });
  const store = new UpstashTokenStore({ redis, encryptionKey: generateTokenKey() });
  const outcome = await store.acquireLease(ID, "owner", 1_000).then(
    (taken) => ({ taken }),
    (error: unknown) => ({ error }),
  );
  assert.ok("error" in outcome, `resolved ${JSON.stringify(outcome)}`);
  assert.ok(outcome.error instanceof StoreError);
  const read = await store.read(ID).then(() => undefined, (e: unknown) => e);
  assert.ok(read instanceof StoreError, "a read is not an empty miss either");
});

for (const { name, create } of UPSTASH_CLIENTS) {
  Deno.test(`a failure record written by a Redis writer is not trusted; a real one is capped at 5 min (${name})`, async () => {
    await using upstash = await startUpstash();
    const encryptionKey = generateTokenKey();
    const store = new UpstashTokenStore({ redis: create(upstash), encryptionKey });
    const failKey = await redisKey(encryptionKey, "fail", ID);
    const port = upstash.redis.port;
    const now = Date.now();
    // The 0.1.0 format, and a v2-looking forgery: not sealed with our key, so not a failure.
    for (
      const forged of [
        `f1|credentials_rejected|401|${now}|${now + 86_400_000}`,
        `v2.f.AAAAAAAA.${"A".repeat(16)}.${"A".repeat(40)}`,
      ]
    ) {
      await redisCommand(port, ["SET", failKey, forged, "PX", 60_000]);
      assert.equal((await store.read(ID)).failure, undefined, forged);
    }
    // A sealed failure claiming a day is held at most 5 minutes, in the record and its TTL.
    await store.writeFailure(ID, {
      code: "rate_limited",
      status: 429,
      at: now,
      until: now + 864e5,
    });
    const failure = (await store.read(ID)).failure!;
    assert.equal(failure.code, "rate_limited");
    assert.equal(failure.status, 429);
    assert.ok(failure.until <= Date.now() + 5 * 60_000, `until ${failure.until - now}`);
    const [entry] = await rawScan(port, { match: `${REDIS_KEY_PREFIX}fail:*` });
    assert.ok(entry.ttlMs <= 5 * 60_000 && entry.ttlMs > 4 * 60_000, `ttl ${entry.ttlMs}`);
    assert.match(entry.text, /^v2\.f\.[A-Za-z0-9_-]{8}\./, "sealed");
    assert.ok(!entry.text.includes("rate_limited"));
    // Tampered sealed failure: not trusted either.
    const flipped = entry.text.slice(0, -3) + (entry.text.endsWith("A") ? "B" : "A") + "AA";
    await redisCommand(port, ["SET", failKey, flipped, "PX", 60_000]);
    assert.equal((await store.read(ID)).failure, undefined);
  });

  Deno.test(`a spliced fingerprint is detected; key names depend on AQC_TOKEN_KEY (${name})`, async () => {
    await using upstash = await startUpstash();
    const keyA = generateTokenKey();
    const store = new UpstashTokenStore({ redis: create(upstash), encryptionKey: keyA });
    await store.writeToken(ID, token("Victim"));
    const tokKey = await redisKey(keyA, "tok", ID);
    const port = upstash.redis.port;
    const sealed = new TextDecoder().decode(
      (await redisCommand(port, ["GET", tokKey])) as Uint8Array,
    );
    const parts = sealed.split(".");
    parts[1] = "Z".repeat(22); // a writer steering compare-and-delete
    await redisCommand(port, ["SET", tokKey, parts.join("."), "PX", 60_000]);
    assert.equal((await store.read(ID)).token, undefined);

    const keyB = generateTokenKey();
    const other = new UpstashTokenStore({ redis: create(upstash), encryptionKey: keyB });
    await other.writeToken(ID, token("Other"));
    const keys = (await rawScan(port)).map((e) => e.key);
    assert.ok(keys.includes(tokKey) && keys.includes(await redisKey(keyB, "tok", ID)));
    assert.notEqual(await redisKey(keyA, "tok", ID), await redisKey(keyB, "tok", ID));
    for (const key of keys) assert.ok(!key.includes(ID), "the manager's id is not in a key name");
  });

  Deno.test(`scripts carry allow-key-locking and run through the bridge (${name})`, async () => {
    await using upstash = await startUpstash();
    const redis = create(upstash);
    // What Upstash needs to lock only the script's keys; redis-server 7 alone refuses it.
    assert.equal(
      await redis.eval("#!lua flags=allow-key-locking\nreturn KEYS[1]", ["k"], []),
      "k",
    );
    assert.equal(
      await redis.eval("#!lua flags=no-writes,allow-key-locking\nreturn 2", ["k"], []),
      2,
    );
    const refused = await redisCommand(upstash.redis.port, [
      "EVAL",
      "#!lua flags=allow-key-locking\nreturn 1",
      0,
    ]);
    assert.ok(refused instanceof Error, "redis-server itself does not know the flag");
    const store = new UpstashTokenStore({ redis, encryptionKey: generateTokenKey() });
    assert.equal(await store.acquireLease(ID, "me", 1_000), true);
  });
}
