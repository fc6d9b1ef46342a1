/**
 * Who is calling: gateway keys checked by hash in constant time.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "@hono/hono";
import type { GatewayKey } from "../config/load_config.ts";

const encoder = new TextEncoder();

/**
 * Finds the gateway key whose SHA-256 equals that of `presented`. The presented key is
 * hashed once, then compared with every configured hash byte by byte without an early
 * exit, so the time taken says nothing about which key or how many bytes matched.
 *
 * @param keys The configured keys.
 * @param presented The bearer value the caller sent.
 * @returns The matching key, or `undefined`.
 */
export async function findGatewayKey(
  keys: readonly GatewayKey[],
  presented: string,
): Promise<GatewayKey | undefined> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(presented)));
  let found: GatewayKey | undefined;
  for (const key of keys) {
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= key.sha256[i] ^ digest[i];
    // Branch-free select: every key is compared whatever matched before.
    found = diff === 0 ? key : found;
  }
  return found;
}

/**
 * Verifies gateway keys and remembers the ones that matched, so a caller's later requests
 * skip the SHA-256 (an asynchronous WebCrypto call that was the largest cost of a warm
 * gateway request).
 *
 * Only keys that matched are remembered: each is a preimage of a configured hash, so the
 * memory is bounded by the number of configured keys whatever callers send. A key not
 * remembered is always hashed and compared in constant time by
 * {@linkcode findGatewayKey}; the map lookup itself compares the presented string only with
 * keys already proven valid, and only after their (seeded) string hashes collide.
 */
export class GatewayKeyVerifier {
  readonly #keys: readonly GatewayKey[];
  readonly #verified = new Map<string, GatewayKey>();

  /**
   * Creates a verifier for the configured keys.
   *
   * @param keys The configured keys (`AQC_GATEWAY_KEYS`).
   */
  constructor(keys: readonly GatewayKey[]) {
    this.#keys = keys;
  }

  /**
   * The key matching `presented` when it matched before, without hashing anything: the
   * synchronous fast path of a warm caller.
   *
   * @param presented The bearer value the caller sent.
   * @returns The remembered key, or `undefined` (not verified yet, or no key at all).
   */
  known(presented: string): GatewayKey | undefined {
    return this.#verified.get(presented);
  }

  /**
   * The key matching `presented`: at once when it matched before, else after hashing it.
   *
   * @param presented The bearer value the caller sent.
   * @returns The matching key, or `undefined`.
   */
  verify(presented: string): GatewayKey | undefined | Promise<GatewayKey | undefined> {
    const known = this.#verified.get(presented);
    if (known !== undefined) return known;
    return findGatewayKey(this.#keys, presented).then((key) => {
      if (key !== undefined) this.#verified.set(presented, key);
      return key;
    });
  }
}

/**
 * The gateway key an `Authorization` header presents, parsed exactly as Hono's bearerAuth
 * parsed it (`Bearer` in any case, one space, the rest trimmed at its start), by
 * {@linkcode callerAuthMiddleware} and the warm paths that skip it: only values it accepted
 * before are ever found by {@linkcode GatewayKeyVerifier.known}, so a spelling it refuses is
 * never known.
 *
 * @param header The `Authorization` header, or `null`.
 * @returns The presented value, or `undefined` when there is none in that form.
 */
export function bearerValue(header: string | null): string | undefined {
  if (header === null || header.length <= 7 || header[6] !== " ") return undefined;
  if (header.slice(0, 6).toLowerCase() !== "bearer") return undefined;
  return header.slice(7).trimStart();
}

/** The bearer values bearerAuth accepted: RFC 6750's `b64token` characters. */
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * The gateway's caller authentication, as Hono's `bearerAuth({ verifyToken })` did it (the
 * Worker bundle carried 2.9 KB of it and its hashing helpers, minified, for this): the value of
 * `Authorization: Bearer <key>` ({@linkcode bearerValue}), in `b64token` characters, verified by
 * `verifier`; the key found is set as `c.var.gatewayKey` before `next()`. Anything else, a
 * missing header included, is answered by `refuse` (the caller is not told which check failed).
 *
 * @param verifier The configured keys.
 * @param refuse The answer to a caller without a valid key.
 * @returns The middleware.
 */
export function callerAuthMiddleware(
  verifier: GatewayKeyVerifier,
  refuse: (c: Context) => Response,
): MiddlewareHandler {
  return async (c, next) => {
    const presented = bearerValue(c.req.raw.headers.get("authorization"));
    const key = presented === undefined || !B64TOKEN.test(presented)
      ? undefined
      : await verifier.verify(presented);
    if (key === undefined) return refuse(c);
    (c as Context<{ Variables: { gatewayKey: GatewayKey } }>).set("gatewayKey", key);
    await next();
  };
}

/**
 * Whether `key` may call `officeId` (canonical), given the served offices.
 *
 * @param key The caller's key.
 * @param officeId The canonical office id.
 * @param served `AQC_OFFICES`, when set.
 * @returns `true` when allowed.
 */
export function keyAllowsOffice(
  key: GatewayKey,
  officeId: string,
  served: readonly string[] | undefined,
): boolean {
  if (served !== undefined && !served.includes(officeId)) return false;
  return key.offices === "*" || key.offices.has(officeId);
}
