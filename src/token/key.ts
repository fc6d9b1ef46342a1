/**
 * Cache key ids: what identifies an office's token without naming the office.
 *
 * @module
 */
import type { Credentials } from "./types.ts";

const encoder = new TextEncoder();

/**
 * Encodes bytes as base64url without padding.
 *
 * @param bytes The bytes.
 * @returns The base64url text.
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * SHA-256 of a UTF-8 string.
 *
 * @param text The text.
 * @returns The 32-byte digest.
 */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * The id of a token cache entry: base64url(SHA-256) of the API root, the client id, a
 * fingerprint of the secret and the office id. Equal for every isolate that serves the
 * same credentials and office, and free of all four values.
 *
 * @param credentials Validated credentials.
 * @param officeId A canonical office id.
 * @returns 43 base64url characters.
 */
export async function tokenKeyId(credentials: Credentials, officeId: string): Promise<string> {
  const secretFingerprint = encodeBase64Url(await sha256(credentials.clientSecret));
  // JSON framing keeps field boundaries unambiguous whatever the values contain.
  const material = JSON.stringify([
    "aqc-edge/token/v1",
    credentials.apiUrl,
    credentials.clientId,
    secretFingerprint,
    officeId,
  ]);
  return encodeBase64Url(await sha256(material));
}
