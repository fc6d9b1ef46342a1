/**
 * AES-GCM nonces of sealed token records: a fresh random IV per seal, and a record sealed
 * under an all-zero IV (what a broken or stubbed random source gives) is never served.
 * GCM nonce reuse under one key breaks both confidentiality and authenticity.
 *
 * Checked through the public `UpstashTokenStore` and raw Redis, not the record format.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createUpstashRest } from "../src/store/upstash_rest.ts";
import type { UpstashRedisClient } from "../src/store/upstash_store.ts";
import { type StoredToken, UpstashTokenStore } from "../src/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";
import { type RawEntry, rawScan, startUpstash } from "./helpers/redis.ts";
import { randomTokenKey } from "./helpers/keys.ts";

const ID = "I".repeat(43);

/** The client the gateway builds (one attempt per call, a fresh timeout per call). */
function client(url: string, token: string): UpstashRedisClient {
  return createUpstashRest({ url, token, timeoutMs: 2_000 });
}

function record(accessToken: string): StoredToken {
  const now = Date.now();
  return { accessToken, issuedAt: now, expiresAt: now + 600_000, usableUntil: now + 570_000 };
}

async function tokenRecords(port: number): Promise<RawEntry[]> {
  return (await rawScan(port)).filter((e) => /tok/.test(e.key));
}

deadlineTest("two seals of the same token record differ in Redis (fresh IVs)", 15_000, async ({
  defer,
}) => {
  const upstash = await startUpstash();
  defer(() => upstash.stop());
  const store = new UpstashTokenStore({
    redis: client(upstash.url, upstash.token),
    encryptionKey: randomTokenKey(),
  });
  const token = record("SameTokenSealedTwice0123456789");
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    await store.writeToken(ID, token);
    const records = await tokenRecords(upstash.redis.port);
    assert.equal(records.length, 1);
    seen.add(records[0].text);
  }
  assert.equal(seen.size, 4, "the same record sealed 4 times gave identical bytes");
  assert.equal((await store.read(ID)).token?.accessToken, token.accessToken);
});

deadlineTest(
  "a token record sealed under an all-zero IV is never served",
  15_000,
  async ({ defer }) => {
    const upstash = await startUpstash();
    defer(() => upstash.stop());
    const redis = client(upstash.url, upstash.token);
    const encryptionKey = randomTokenKey();
    const writer = new UpstashTokenStore({ redis, encryptionKey });
    const token = record("TokenSealedUnderAZeroIv0123456");
    // A random source that yields zeros (broken, stubbed) while the record is sealed.
    const original = crypto.getRandomValues;
    crypto.getRandomValues = (<T extends ArrayBufferView | null>(array: T): T => {
      if (array !== null) {
        new Uint8Array(array.buffer, array.byteOffset, array.byteLength).fill(0);
      }
      return array;
    }) as typeof crypto.getRandomValues;
    let refusedToWrite = false;
    try {
      await writer.writeToken(ID, token);
    } catch {
      refusedToWrite = true;
    } finally {
      crypto.getRandomValues = original;
    }
    // Refusing to write such a record is fine too; either way it must not be served.
    if (!refusedToWrite) {
      assert.equal((await tokenRecords(upstash.redis.port)).length, 1, "the record was written");
    }
    const reader = new UpstashTokenStore({ redis, encryptionKey });
    assert.equal(
      (await reader.read(ID)).token,
      undefined,
      "a record with an all-zero IV was served",
    );
  },
);
