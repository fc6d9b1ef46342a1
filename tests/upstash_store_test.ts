import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { AqcError, type StoredToken, UpstashTokenStore } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { REDIS_KEY_PREFIX } from "../src/store/upstash_store.ts";
import { importSealingKey, keyName, parseEncryptionKey } from "../src/store/seal.ts";
import { rawScan, redisCommand, startUpstash } from "./helpers/redis.ts";

/** The Redis key of an entry as the store names it under `encryptionKey`. */
async function redisKey(
  encryptionKey: string,
  kind: "tok" | "fail" | "lease",
  id: string,
): Promise<string> {
  const name = await keyName(await importSealingKey(parseEncryptionKey(encryptionKey)), id);
  return `${REDIS_KEY_PREFIX}${kind}:${name}`;
}

function client(url: string, token: string): Redis {
  return new Redis({
    url,
    token,
    retry: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(1_000),
  });
}

function token(accessToken: string, lifetimeMs = 60_000): StoredToken {
  const now = Date.now();
  return {
    accessToken,
    issuedAt: now,
    expiresAt: now + lifetimeMs,
    usableUntil: now + lifetimeMs - 1_000,
  };
}

const ID_A = "A".repeat(43);
const ID_B = "B".repeat(43);

Deno.test("UpstashTokenStore refuses a bad encryption key with config_invalid", () => {
  const redis = client("http://127.0.0.1:9", "t");
  for (const bad of ["", "short", "x".repeat(42), "x".repeat(44), "+".repeat(43), "a b"]) {
    assert.throws(
      () => new UpstashTokenStore({ redis, encryptionKey: bad }),
      (e) =>
        e instanceof AqcError && e.code === "config_invalid" && !e.message.includes(bad || "§"),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () =>
      new UpstashTokenStore({
        redis,
        encryptionKey: generateTokenKey(),
        previousEncryptionKeys: ["nope"],
      }),
    (e) => e instanceof AqcError && e.message.includes("previousEncryptionKeys[0]"),
  );
});

Deno.test("UpstashTokenStore seals records, sets TTLs and never stores a token in clear", async () => {
  await using upstash = await startUpstash();
  const encryptionKey = generateTokenKey();
  const store = new UpstashTokenStore({ redis: client(upstash.url, upstash.token), encryptionKey });
  const accessToken = "SecretAccessTokenValue0123456789";
  await store.writeToken(ID_A, token(accessToken));
  await store.writeFailure(ID_B, {
    code: "credentials_rejected",
    status: 401,
    at: Date.now(),
    until: Date.now() + 60_000,
  });
  assert.ok(await store.acquireLease(ID_A, "owner-1", 5_000));

  const entries = await rawScan(upstash.redis.port);
  assert.deepEqual(
    entries.map((e) => e.key).sort(),
    [
      await redisKey(encryptionKey, "fail", ID_B),
      await redisKey(encryptionKey, "lease", ID_A),
      await redisKey(encryptionKey, "tok", ID_A),
    ].sort(),
  );
  for (const entry of entries) {
    assert.ok(entry.ttlMs > 0, `${entry.key} has a TTL`);
    for (const needle of [accessToken, btoa(accessToken), accessToken.slice(0, 16)]) {
      assert.ok(!entry.text.includes(needle), `${entry.key} holds the token`);
    }
  }
  const record = entries.find((e) => e.key.includes(":tok:"))!;
  assert.match(
    record.text,
    /^v2\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/,
  );
  assert.ok(record.ttlMs <= 59_000 && record.ttlMs > 50_000, `ttl ${record.ttlMs}`);

  const read = await store.read(ID_A);
  assert.equal(read.token?.accessToken, accessToken);
  const failure = (await store.read(ID_B)).failure;
  assert.equal(failure?.code, "credentials_rejected");
  assert.equal(failure?.status, 401);
});

Deno.test("UpstashTokenStore never serves swapped, tampered or foreign-key records", async () => {
  await using upstash = await startUpstash();
  const redis = client(upstash.url, upstash.token);
  const key = generateTokenKey();
  const store = new UpstashTokenStore({ redis, encryptionKey: key });
  await store.writeToken(ID_A, token("TokenForOfficeA"));
  await store.writeToken(ID_B, token("TokenForOfficeB"));
  const port = upstash.redis.port;
  const keyA = await redisKey(key, "tok", ID_A);
  const keyB = await redisKey(key, "tok", ID_B);
  const sealedA = new TextDecoder().decode((await redisCommand(port, ["GET", keyA])) as Uint8Array);

  // Swapped: A's record under B's key does not open (the key is authenticated data).
  await redisCommand(port, ["SET", keyB, sealedA, "PX", 60_000]);
  assert.equal((await store.read(ID_B)).token, undefined);

  // Tampered: one flipped character in the ciphertext, the IV or the key id.
  const parts = sealedA.split(".");
  for (const index of [2, 3, 4]) {
    const flipped = [...parts];
    const chars = [...flipped[index]];
    chars[1] = chars[1] === "A" ? "B" : "A";
    flipped[index] = chars.join("");
    await redisCommand(port, ["SET", keyA, flipped.join("."), "PX", 60_000]);
    assert.equal((await store.read(ID_A)).token, undefined, `part ${index} flipped`);
  }
  for (const garbage of ["", "v2", "not a record", "v2.a.b.c.d", '{"t":"x"}']) {
    await redisCommand(port, ["SET", keyA, garbage, "PX", 60_000]);
    assert.equal((await store.read(ID_A)).token, undefined, garbage);
  }

  // Foreign key: a store with another key reads nothing of ours...
  await redisCommand(port, ["SET", keyA, sealedA, "PX", 60_000]);
  const foreign = new UpstashTokenStore({ redis, encryptionKey: generateTokenKey() });
  assert.equal((await foreign.read(ID_A)).token, undefined);
  // ...unless it lists ours as a previous key (rotation).
  const rotated = new UpstashTokenStore({
    redis,
    encryptionKey: generateTokenKey(),
    previousEncryptionKeys: [key],
  });
  assert.equal((await rotated.read(ID_A)).token?.accessToken, "TokenForOfficeA");
});

Deno.test("UpstashTokenStore compare-and-delete and leases", async () => {
  await using upstash = await startUpstash();
  const encryptionKey = generateTokenKey();
  const store = new UpstashTokenStore({ redis: client(upstash.url, upstash.token), encryptionKey });
  await store.writeToken(ID_A, token("CurrentToken"));
  assert.equal(await store.deleteToken(ID_A, "SomeOtherToken"), false);
  assert.equal((await store.read(ID_A)).token?.accessToken, "CurrentToken");
  assert.equal(await store.deleteToken(ID_A, "CurrentToken"), true);
  assert.equal((await store.read(ID_A)).token, undefined);
  assert.equal(await store.deleteToken(ID_A, "CurrentToken"), false);

  assert.equal(await store.acquireLease(ID_A, "one", 200), true);
  assert.equal(await store.acquireLease(ID_A, "two", 200), false);
  await store.releaseLease(ID_A, "two"); // not the holder: no effect
  assert.equal(await store.acquireLease(ID_A, "three", 200), false);
  await store.releaseLease(ID_A, "one");
  assert.equal(await store.acquireLease(ID_A, "two", 150), true);
  await new Promise((resolve) => setTimeout(resolve, 250)); // a dead holder's lease expires
  assert.equal(await store.acquireLease(ID_A, "three", 1_000), true);
  // Re-entrant for its holder: a lease SET applied after its caller timed out (a frozen
  // Redis) is taken again by that caller, not waited out; others still wait.
  assert.equal(await store.acquireLease(ID_A, "three", 2_000), true);
  const leaseKey = await redisKey(encryptionKey, "lease", ID_A);
  const pttl = await redisCommand(upstash.redis.port, ["PTTL", leaseKey]);
  assert.ok(Number(pttl) > 1_000, "extended");
  assert.equal(await store.acquireLease(ID_A, "two", 1_000), false);

  // A token written clears the failure it supersedes.
  await store.writeFailure(ID_B, {
    code: "token_endpoint_unavailable",
    at: Date.now(),
    until: Date.now() + 5_000,
  });
  assert.equal((await store.read(ID_B)).failure?.code, "token_endpoint_unavailable");
  await store.writeToken(ID_B, token("Fresh"));
  const entry = await store.read(ID_B);
  assert.equal(entry.failure, undefined);
  assert.equal(entry.token?.accessToken, "Fresh");
});
