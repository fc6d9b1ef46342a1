/**
 * Key material for tests, made here so tests do not depend on which entry point exports
 * the generators.
 *
 * @module
 */

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * A fresh `AQC_TOKEN_KEY`: base64url of 32 random bytes.
 *
 * @returns The key text.
 */
export function randomTokenKey(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** A gateway key and its `AQC_GATEWAY_KEYS` entry. */
export interface TestGatewayKey {
  /** What the caller sends as `Authorization: Bearer <key>`. */
  key: string;
  /** The entry for `AQC_GATEWAY_KEYS`. */
  entry: { id: string; sha256: string; offices: string[] };
}

/**
 * A fresh gateway key with its entry (SHA-256 in hex).
 *
 * @param id The key's name.
 * @param offices The offices it may call, or `["*"]`.
 * @returns The key and its entry.
 */
export async function randomGatewayKey(id: string, offices: string[]): Promise<TestGatewayKey> {
  const key = "aqcgw_" + base64Url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
  );
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { key, entry: { id, sha256, offices } };
}
