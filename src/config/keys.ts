/**
 * Key generation for the gateway's configuration: a caller key with its `AQC_GATEWAY_KEYS`
 * entry, and an `AQC_TOKEN_KEY`. Used by `deno task keygen`.
 *
 * @module
 */
import { encodeBase64Url } from "../token/key.ts";

/** A new gateway key and the `AQC_GATEWAY_KEYS` entry that admits it. */
export interface GeneratedGatewayKey {
  /** The key: give it to the caller, never store it on the gateway. */
  key: string;
  /** The entry for `AQC_GATEWAY_KEYS`: only the key's SHA-256. */
  entry: { id: string; sha256: string; offices: string[] };
}

/**
 * Makes a new random gateway key and the `AQC_GATEWAY_KEYS` entry that admits it.
 *
 * @example
 * ```ts
 * import { generateGatewayKey } from "@aqc-edge/aqc-edge/gateway";
 *
 * const { key, entry } = await generateGatewayKey("web", ["*"]);
 * if (!/^aqcgw_/.test(key)) throw new Error("unexpected");
 * if (!/^[0-9a-f]{64}$/.test(entry.sha256)) throw new Error("unexpected");
 * ```
 *
 * @param id The key's name.
 * @param offices The offices it may call, or `["*"]`.
 * @returns The key (give it to the caller) and its entry (put it in `AQC_GATEWAY_KEYS`).
 */
export async function generateGatewayKey(
  id: string,
  offices: readonly string[] = ["*"],
): Promise<GeneratedGatewayKey> {
  const key = "aqcgw_" + encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
  );
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { key, entry: { id, sha256, offices: [...offices] } };
}

/**
 * Makes a new `AQC_TOKEN_KEY`: base64url of 32 random bytes.
 *
 * @example
 * ```ts
 * import { generateTokenKey } from "@aqc-edge/aqc-edge/gateway";
 *
 * if (generateTokenKey().length !== 43) throw new Error("unexpected");
 * ```
 *
 * @returns The key text.
 */
export function generateTokenKey(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}
