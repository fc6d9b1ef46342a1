/**
 * Sealing records at rest: AES-256-GCM whose additional data binds the record to its Redis key,
 * its token fingerprint and its key id, and keyed names for the Redis keys.
 *
 * Layout `v2` (the `v1` of 0.1.0 had the fingerprint outside the authenticated data, unsealed
 * failure records and unkeyed key names; its records are not read and simply expire).
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { encodeBase64Url } from "../token/key.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A key ready to seal and open records, with the id written in front of each record. */
export interface SealingKey {
  /** Short public id of the key (from its hash), so records name the key that sealed them. */
  id: string;
  /** The AES-256-GCM key. */
  aes: CryptoKey;
  /** HMAC key for token fingerprints (compare-and-delete without opening the record). */
  mac: CryptoKey;
  /** HMAC key for Redis key names, so a name is no offline oracle for the credentials. */
  names: CryptoKey;
}

/** The record version written in front of every sealed record. */
export const SEAL_VERSION = "v2";

/**
 * Decodes base64url (padding optional) into bytes, or `undefined` when it is not.
 *
 * @param text base64url text.
 * @returns The bytes, or `undefined`.
 */
export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  const base64 = text.replace(/=+$/, "").replaceAll("-", "+").replaceAll("_", "/");
  try {
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * Checks that `encryptionKey` is base64url of exactly 32 bytes and returns the bytes.
 *
 * @param encryptionKey The key text.
 * @param name The setting's name for the error.
 * @returns 32 bytes.
 * @throws {AqcError} `config_invalid` (never quoting the key).
 */
export function parseEncryptionKey(
  encryptionKey: unknown,
  name = "encryptionKey",
): Uint8Array<ArrayBuffer> {
  const bytes = typeof encryptionKey === "string"
    ? decodeBase64Url(encryptionKey.trim())
    : undefined;
  if (bytes === undefined || bytes.length !== 32) {
    throw new AqcError(
      "config_invalid",
      `${name} must be base64url of 32 random bytes (run: deno task keygen)`,
    );
  }
  // 32 random bytes have about 30 distinct values (fewer than 12 with odds below 1e-12): a key
  // of zeros, a repeated byte or a short pattern is a placeholder pasted into production.
  if (new Set(bytes).size < 12) {
    throw new AqcError(
      "config_invalid",
      `${name} is not random (too few distinct bytes; run: deno task keygen)`,
    );
  }
  return bytes;
}

/**
 * Imports 32 key bytes as a {@linkcode SealingKey}. The MAC key is derived with HKDF so
 * fingerprints and ciphertexts never share a key.
 *
 * @param bytes 32 bytes from {@linkcode parseEncryptionKey}.
 * @returns The key with its id.
 */
export async function importSealingKey(bytes: Uint8Array<ArrayBuffer>): Promise<SealingKey> {
  const raw = bytes.slice();
  const label = encoder.encode("aqc-edge/key-id\0");
  const idInput = new Uint8Array(label.length + raw.length);
  idInput.set(label);
  idInput.set(raw, label.length);
  // A hash of the key, shortened: names the key in records without revealing it.
  const id = encodeBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", idInput)))
    .slice(0, 8);
  const aes = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  const hkdf = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  const derive = (info: string) =>
    crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(info) },
      hkdf,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign"],
    );
  const [mac, names] = await Promise.all([
    derive("aqc-edge/token-fingerprint/v1"),
    derive("aqc-edge/key-name/v2"),
  ]);
  return { id, aes, mac, names };
}

/**
 * The Redis key name for an entry id: HMAC-SHA-256 under a key derived from the encryption
 * key. Without that key a name cannot be recomputed from guessed credentials, so a leaked
 * key list gives no offline test of a weak client secret.
 *
 * @param key The sealing key.
 * @param id The manager's entry id.
 * @returns 43 base64url characters.
 */
export async function keyName(key: SealingKey, id: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key.names, encoder.encode(id));
  return encodeBase64Url(new Uint8Array(mac));
}

/**
 * A keyed fingerprint of an access token: lets Redis compare tokens without holding one.
 *
 * @param key The sealing key.
 * @param accessToken The token.
 * @returns 22 base64url characters (128 bits).
 */
export async function fingerprint(key: SealingKey, accessToken: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key.mac, encoder.encode(accessToken));
  return encodeBase64Url(new Uint8Array(mac)).slice(0, 22);
}

function additionalData(
  redisKey: string,
  tokenFingerprint: string,
  keyId: string,
): Uint8Array<ArrayBuffer> {
  // NUL-framed: none of the three fields can hold a NUL, so the framing is unambiguous.
  return encoder.encode(`${SEAL_VERSION}\0${redisKey}\0${tokenFingerprint}\0${keyId}`);
}

/**
 * Seals `plaintext` as `v2.<fingerprint>.<key id>.<iv>.<ciphertext>`. The additional data is
 * the Redis key, the fingerprint and the key id, so a record copied under another key, or
 * with another fingerprint spliced in (to steer compare-and-delete), does not open.
 *
 * @param key The sealing key.
 * @param redisKey The key the record is stored under.
 * @param plaintext The record.
 * @param tokenFingerprint The fingerprint of the record's token (base64url, or `f` for a
 *   failure record).
 * @returns The sealed text.
 */
export async function seal(
  key: SealingKey,
  redisKey: string,
  plaintext: string,
  tokenFingerprint: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(redisKey, tokenFingerprint, key.id) },
    key.aes,
    encoder.encode(plaintext),
  );
  return [
    SEAL_VERSION,
    tokenFingerprint,
    key.id,
    encodeBase64Url(iv),
    encodeBase64Url(new Uint8Array(ciphertext)),
  ].join(".");
}

/**
 * Opens a sealed record with whichever of `keys` sealed it. Answers `undefined` for
 * anything that does not open: unknown key, tampered bytes or fingerprint, another key's
 * record, an all-zero IV (never produced by {@linkcode seal}; a sign of a forged or broken
 * writer reusing nonces).
 *
 * @param keys Current key first, then previous keys still accepted.
 * @param redisKey The key the record was read from.
 * @param sealed The sealed text.
 * @returns The plaintext, or `undefined`.
 */
export async function open(
  keys: readonly SealingKey[],
  redisKey: string,
  sealed: string,
): Promise<string | undefined> {
  const parts = sealed.split(".");
  if (parts.length !== 5 || parts[0] !== SEAL_VERSION) return undefined;
  const [, tokenFingerprint, keyId] = parts;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(tokenFingerprint)) return undefined;
  const key = keys.find((k) => k.id === keyId);
  const iv = decodeBase64Url(parts[3]);
  const ciphertext = decodeBase64Url(parts[4]);
  if (
    key === undefined || iv === undefined || iv.length !== 12 || iv.every((b) => b === 0) ||
    ciphertext === undefined
  ) {
    return undefined;
  }
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv,
        additionalData: additionalData(redisKey, tokenFingerprint, key.id),
      },
      key.aes,
      ciphertext,
    );
    return decoder.decode(plaintext);
  } catch {
    return undefined;
  }
}
