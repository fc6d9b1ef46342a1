import assert from "../../tests/helpers/assert.ts";
import {
  decodeBase64Url,
  importSealingKey,
  keyName,
  open,
  parseEncryptionKey,
  seal,
  type SealingKey,
} from "./seal.ts";
import { encodeBase64Url } from "../token/key.ts";
import { AqcError } from "../errors.ts";

function randomKey(): Promise<SealingKey> {
  return importSealingKey(crypto.getRandomValues(new Uint8Array(32)));
}

const REDIS_KEY = "aqc:v2:tok:name";
const FP = "F".repeat(22);

Deno.test("seal: a fresh random IV per record, and an all-zero IV is refused", async () => {
  const key = await randomKey();
  const ivs = new Set<string>();
  for (let i = 0; i < 200; i++) {
    ivs.add((await seal(key, REDIS_KEY, "same text", FP)).split(".")[3]);
  }
  assert.equal(ivs.size, 200);

  // A record sealed (validly, with the real key) under an all-zero IV: GCM would open it,
  // the format check must not.
  const zero = new Uint8Array(12);
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const own = await importSealingKey(rawKey);
  const aes = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt"]);
  const ct = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv: zero,
      additionalData: new TextEncoder().encode(`v2\0${REDIS_KEY}\0${FP}\0${own.id}`),
    },
    aes,
    new TextEncoder().encode("plaintext"),
  );
  const forged = ["v2", FP, own.id, encodeBase64Url(zero), encodeBase64Url(new Uint8Array(ct))]
    .join(".");
  assert.equal(await open([own], REDIS_KEY, forged), undefined);
  // The same record with a random IV opens: only the IV made the difference.
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ok = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv,
      additionalData: new TextEncoder().encode(`v2\0${REDIS_KEY}\0${FP}\0${own.id}`),
    },
    aes,
    new TextEncoder().encode("plaintext"),
  );
  const fine = ["v2", FP, own.id, encodeBase64Url(iv), encodeBase64Url(new Uint8Array(ok))]
    .join(".");
  assert.equal(await open([own], REDIS_KEY, fine), "plaintext");
});

Deno.test("seal: the fingerprint and the key id are authenticated", async () => {
  const key = await randomKey();
  const sealed = await seal(key, REDIS_KEY, "record", FP);
  assert.equal(await open([key], REDIS_KEY, sealed), "record");
  const parts = sealed.split(".");
  const otherFp = [...parts];
  otherFp[1] = "G".repeat(22);
  assert.equal(await open([key], REDIS_KEY, otherFp.join(".")), undefined, "fingerprint swapped");
  assert.equal(await open([key], "aqc:v2:tok:other", sealed), undefined, "moved");
  const v1 = ["v1", ...parts.slice(1)].join(".");
  assert.equal(await open([key], REDIS_KEY, v1), undefined, "old layout not read");
});

Deno.test("keyName: keyed, stable per key, different across keys, free of the id", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const a = await importSealingKey(bytes);
  const again = await importSealingKey(bytes.slice());
  const b = await randomKey();
  const id = "I".repeat(43);
  const name = await keyName(a, id);
  assert.match(name, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await keyName(again, id), name);
  assert.notEqual(await keyName(b, id), name);
  assert.notEqual(await keyName(a, "J".repeat(43)), name);
  assert.ok(!name.includes(id.slice(0, 8)));
  // Not the plain SHA-256 of the id (which anyone could recompute).
  const plain = encodeBase64Url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id))),
  );
  assert.notEqual(name, plain);
});

Deno.test("parseEncryptionKey and decodeBase64Url", () => {
  const text = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  assert.equal(parseEncryptionKey(text).length, 32);
  assert.throws(() => parseEncryptionKey("short"));
  assert.equal(decodeBase64Url("!!"), undefined);
});

Deno.test("parseEncryptionKey refuses placeholder keys: zeros, a repeated byte, a short pattern", () => {
  const encode = (bytes: Uint8Array): string => encodeBase64Url(bytes);
  for (
    const bytes of [
      new Uint8Array(32),
      new Uint8Array(32).fill(0x41),
      Uint8Array.from({ length: 32 }, (_, i) => i % 4),
    ]
  ) {
    assert.throws(
      () => parseEncryptionKey(encode(bytes)),
      (error: unknown) => error instanceof AqcError && /not random/.test(error.message),
    );
  }
  // A real key (what keygen makes) passes, many times over.
  for (let i = 0; i < 1000; i++) {
    parseEncryptionKey(encode(crypto.getRandomValues(new Uint8Array(32))));
  }
});
