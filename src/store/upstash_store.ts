/**
 * `UpstashTokenStore`: the shared L2 in Upstash Redis, sealed at rest.
 *
 * @module
 */
import type { StoredEntry, StoredFailure, StoredToken, TokenStore } from "./store.ts";
import {
  fingerprint,
  importSealingKey,
  open,
  parseEncryptionKey,
  seal,
  type SealingKey,
} from "./seal.ts";
import type { AqcErrorCode } from "../errors.ts";

/**
 * The part of an `@upstash/redis` `Redis` client the store uses. Any `Redis` from
 * `@upstash/redis` (Deno, Node) or `@upstash/redis/cloudflare` fits.
 */
export interface UpstashRedisClient {
  /** `MGET`. */
  mget(...keys: string[]): Promise<unknown[]>;
  /** `SET` with `PX` and optional `NX`. */
  set(
    key: string,
    value: string,
    options: { px: number } | { px: number; nx: true },
  ): Promise<unknown>;
  /** `EVAL`. */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
}

/** Options of {@linkcode UpstashTokenStore}. */
export interface UpstashTokenStoreOptions {
  /**
   * An `@upstash/redis` client. Give it a short timeout and no retries, e.g.
   * `new Redis({ url, token, retry: false, signal: () => AbortSignal.timeout(500) })`.
   */
  redis: UpstashRedisClient;
  /** base64url of 32 random bytes (`deno task keygen`); seals every token record. */
  encryptionKey: string;
  /**
   * Earlier keys still accepted when opening records, for rotation: records sealed with
   * them are read until they expire, new records use `encryptionKey`.
   */
  previousEncryptionKeys?: string[];
  /** Epoch ms clock for TTLs; default `Date.now`. */
  now?: () => number;
}

/** The Redis key prefix; `v1` changes only with an incompatible layout. */
export const REDIS_KEY_PREFIX = "aqc:v1:";

// SET NX PX, or, when the caller already holds the lease, extend it. A lease SET that a
// slow or frozen Redis applies after its caller gave up (timed out) is then not an orphan
// that locks its own isolate out until the TTL: the owner simply takes it again.
const ACQUIRE_LEASE = `if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then return 1 end
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RELEASE_LEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`;

// Deletes the token record only if its fingerprint (the field after "v1.") is one of
// ARGV: compare-and-delete without Redis ever holding a readable token.
const DELETE_IF_TOKEN = `local v = redis.call("GET", KEYS[1])
if not v then return 0 end
for i = 1, #ARGV do
  if string.sub(v, 1, #ARGV[i]) == ARGV[i] then return redis.call("DEL", KEYS[1]) end
end
return 0`;

// One round trip writes the token and clears the failure a fresh token supersedes.
const WRITE_TOKEN = `redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
redis.call("DEL", KEYS[2])
return 1`;

const FAILURE_CODES = new Set<AqcErrorCode>([
  "credentials_rejected",
  "token_request_rejected",
  "token_endpoint_misconfigured",
  "rate_limited",
  "token_endpoint_unavailable",
  "token_response_invalid",
]);

function tokenKey(id: string): string {
  return `${REDIS_KEY_PREFIX}tok:${id}`;
}

function failureKey(id: string): string {
  return `${REDIS_KEY_PREFIX}fail:${id}`;
}

function leaseKey(id: string): string {
  return `${REDIS_KEY_PREFIX}lease:${id}`;
}

function encodeFailure(failure: StoredFailure): string {
  // Pipe-separated on purpose: not JSON, so a client with automatic deserialization
  // hands it back unchanged.
  return ["f1", failure.code, failure.status ?? "", failure.at, failure.until].join("|");
}

function decodeFailure(value: unknown): StoredFailure | undefined {
  if (typeof value !== "string") return undefined;
  const [version, code, status, at, until] = value.split("|");
  if (version !== "f1" || !FAILURE_CODES.has(code as AqcErrorCode)) return undefined;
  const failure: StoredFailure = {
    code: code as AqcErrorCode,
    at: Number(at),
    until: Number(until),
  };
  if (status !== "") failure.status = Number(status);
  return Number.isFinite(failure.at) && Number.isFinite(failure.until) ? failure : undefined;
}

function decodeToken(plaintext: string | undefined): StoredToken | undefined {
  if (plaintext === undefined) return undefined;
  try {
    const record = JSON.parse(plaintext) as Record<string, unknown>;
    const { t, i, e, u } = record;
    if (
      typeof t === "string" && t.length > 0 && typeof i === "number" && typeof e === "number" &&
      typeof u === "number"
    ) {
      return { accessToken: t, issuedAt: i, expiresAt: e, usableUntil: u };
    }
  } catch {
    // Not a record of ours: a miss.
  }
  return undefined;
}

/**
 * A {@linkcode TokenStore} in Upstash Redis, shared by every isolate in every region.
 *
 * - Keys are `aqc:v1:tok:{id}`, `aqc:v1:lease:{id}` and `aqc:v1:fail:{id}`, where `id` is
 *   a hash: no office id, client id or secret appears in Redis.
 * - Token records are sealed with AES-256-GCM (random 96-bit IV, the Redis key as
 *   additional data, a key id in front for rotation) and expire at `usableUntil`.
 * - A cold isolate reads its office in one `MGET`; a record that does not open
 *   (tampered, another key's, another entry's) is a miss, never served.
 *
 * @example
 * ```ts ignore
 * import { Redis } from "@upstash/redis";
 * import { TokenManager, UpstashTokenStore } from "@aqc-edge/aqc-edge";
 *
 * const store = new UpstashTokenStore({
 *   redis: new Redis({
 *     url: Deno.env.get("UPSTASH_REDIS_REST_URL")!,
 *     token: Deno.env.get("UPSTASH_REDIS_REST_TOKEN")!,
 *     retry: false,
 *     signal: () => AbortSignal.timeout(500),
 *   }),
 *   encryptionKey: Deno.env.get("AQC_TOKEN_KEY")!,
 * });
 * const tokens = new TokenManager({ credentials, store });
 * ```
 */
export class UpstashTokenStore implements TokenStore {
  readonly #redis: UpstashRedisClient;
  readonly #keys: Promise<SealingKey[]>;
  readonly #now: () => number;

  /**
   * Creates the store; checks the keys at once.
   *
   * @param options The Redis client and the encryption key.
   * @throws {AqcError} `config_invalid` when a key is not base64url of 32 bytes.
   */
  constructor(options: UpstashTokenStoreOptions) {
    this.#redis = options.redis;
    this.#now = options.now ?? Date.now;
    const current = parseEncryptionKey(options.encryptionKey);
    const previous = (options.previousEncryptionKeys ?? []).map((key, index) =>
      parseEncryptionKey(key, `previousEncryptionKeys[${index}]`)
    );
    this.#keys = Promise.all([current, ...previous].map(importSealingKey));
    // Surfaced on first use; an unhandled rejection must not crash the isolate meanwhile.
    this.#keys.catch(() => undefined);
  }

  /** Reads the token and the failure of an entry with one `MGET`. */
  async read(id: string): Promise<StoredEntry> {
    const key = tokenKey(id);
    const [sealed, failure] = await this.#redis.mget(key, failureKey(id));
    const entry: StoredEntry = {};
    if (typeof sealed === "string") {
      const token = decodeToken(await open(await this.#keys, key, sealed));
      if (token !== undefined) entry.token = token;
    }
    const decoded = decodeFailure(failure);
    if (decoded !== undefined) entry.failure = decoded;
    return entry;
  }

  /** Seals and stores a token until its `usableUntil`, clearing the office's failure. */
  async writeToken(id: string, token: StoredToken): Promise<void> {
    const ttl = Math.floor(token.usableUntil - this.#now());
    if (ttl <= 0) return;
    const [key] = await this.#keys;
    const redisKey = tokenKey(id);
    const plaintext = JSON.stringify({
      t: token.accessToken,
      i: token.issuedAt,
      e: token.expiresAt,
      u: token.usableUntil,
    });
    const sealed = await seal(key, redisKey, plaintext, await fingerprint(key, token.accessToken));
    await this.#redis.eval(WRITE_TOKEN, [redisKey, failureKey(id)], [sealed, String(ttl)]);
  }

  /** Deletes the token record only if it still holds `accessToken`. */
  async deleteToken(id: string, accessToken: string): Promise<boolean> {
    const keys = await this.#keys;
    const prefixes = await Promise.all(
      keys.map(async (key) => `v1.${await fingerprint(key, accessToken)}.`),
    );
    const deleted = await this.#redis.eval(DELETE_IF_TOKEN, [tokenKey(id)], prefixes);
    return Number(deleted) === 1;
  }

  /** Shares a failure until `failure.until`. */
  async writeFailure(id: string, failure: StoredFailure): Promise<void> {
    const ttl = Math.floor(failure.until - this.#now());
    if (ttl <= 0) return;
    await this.#redis.set(failureKey(id), encodeFailure(failure), { px: ttl });
  }

  /** `SET lease owner NX PX ttl`, re-entrant for the owner already holding it (one `EVAL`). */
  async acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const taken = await this.#redis.eval(ACQUIRE_LEASE, [leaseKey(id)], [
      owner,
      String(Math.max(1, Math.floor(ttlMs))),
    ]);
    return Number(taken) === 1;
  }

  /** Compare-and-delete of the lease. */
  async releaseLease(id: string, owner: string): Promise<void> {
    await this.#redis.eval(RELEASE_LEASE, [leaseKey(id)], [owner]);
  }
}
