/**
 * `AQC_GATEWAY_KEYS`: the gateway's callers, each known only by the SHA-256 of its key.
 *
 * @module
 */
import { normalizeOfficeId } from "../office.ts";
import type { Issues } from "./config_error.ts";
import { parseKeyOptions, type RateLimit } from "./key_options.ts";

/** A caller of the gateway: a key (known only by its SHA-256) and the offices it may use. */
export interface GatewayKey {
  /** A name for logs and metrics, e.g. `web`. */
  id: string;
  /** SHA-256 of the key, 32 bytes. */
  sha256: Uint8Array;
  /** The offices this key may call, canonical, or `"*"` for every served office. */
  offices: "*" | ReadonlySet<string>;
  /** `rateLimit`: requests per window for this caller (fleet-wide with Upstash). */
  rateLimit?: RateLimit;
  /** `admin: true`: the key may read `GET /status`. */
  admin?: boolean;
}

function keyExtras(extra: ReturnType<typeof parseKeyOptions>): Partial<GatewayKey> {
  return {
    ...(extra.rateLimit === undefined ? {} : { rateLimit: extra.rateLimit }),
    ...(extra.admin ? { admin: true } : {}),
  };
}

/** Parses and validates `AQC_GATEWAY_KEYS`, adding one issue per problem. */
export function parseGatewayKeys(raw: string, issues: Issues): GatewayKey[] {
  const name = "AQC_GATEWAY_KEYS";
  const problems = { push: (message: string): void => issues.add(name, message) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`${name} must be JSON: [{"id":"web","sha256":"<hex>","offices":["*"]}]`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    problems.push(`${name} must be a non-empty JSON array of keys`);
    return [];
  }
  const keys: GatewayKey[] = [];
  const ids = new Set<string>();
  parsed.forEach((item: unknown, index) => {
    const at = `${name}[${index}]`;
    if (typeof item !== "object" || item === null) {
      problems.push(`${at} must be an object with id, sha256 and offices`);
      return;
    }
    const { id, sha256, offices } = item as Record<string, unknown>;
    const extra = parseKeyOptions(item as Record<string, unknown>, at, problems.push);
    if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      problems.push(`${at}.id must be 1 to 64 letters, digits, dots, dashes or underscores`);
      return;
    }
    if (ids.has(id)) problems.push(`${at}.id "${id}" is used twice`);
    ids.add(id);
    if (typeof sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
      problems.push(`${at}.sha256 must be 64 hex characters (SHA-256 of the key)`);
      return;
    }
    const digest = new Uint8Array(32);
    for (let i = 0; i < 32; i++) digest[i] = parseInt(sha256.slice(i * 2, i * 2 + 2), 16);
    if (!Array.isArray(offices) || offices.length === 0) {
      problems.push(`${at}.offices must be a non-empty array of office ids, or ["*"]`);
      return;
    }
    if (offices.includes("*")) {
      if (offices.length > 1) problems.push(`${at}.offices must be ["*"] alone or office ids`);
      keys.push({ id, sha256: digest, offices: "*", ...keyExtras(extra) });
      return;
    }
    const set = new Set<string>();
    for (const office of offices) {
      try {
        set.add(normalizeOfficeId(office));
      } catch {
        problems.push(`${at}.offices has an invalid office id "${String(office).slice(0, 20)}"`);
      }
    }
    keys.push({ id, sha256: digest, offices: set, ...keyExtras(extra) });
  });
  return keys;
}
