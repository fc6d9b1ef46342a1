/**
 * `UpstashTokenStore`: the shared L2 in Upstash Redis, sealed at rest.
 *
 * @module
 */
import type { ReadOptions, StoredEntry, StoredFailure, StoredToken, TokenStore } from "./store.ts";
import {
  fingerprint,
  importSealingKey,
  keyName,
  open,
  parseEncryptionKey,
  seal,
  SEAL_VERSION,
  type SealingKey,
} from "./seal.ts";
import { classifyStoreError, StoreError } from "./store_error.ts";
import type { AqcErrorCode } from "../errors.ts";

/**
 * The part of an `@upstash/redis` `Redis` client the store uses. Any `Redis` from
 * `@upstash/redis` (Deno, Node) or `@upstash/redis/cloudflare` fits; build it with
 * `createUpstashTokenStore` (`./upstash`) to get the options the store is tested with. The
 * gateway uses its own fetch-only client of the same shape (`upstash_rest.ts`).
 */
export interface UpstashRedisClient {
  /** `MGET` (a read: Upstash may serve it from a replica). */
  mget(...keys: string[]): Promise<unknown[]>;
  /** `SET` with `PX` and optional `NX`. */
  set(
    key: string,
    value: string,
    options: { px: number } | { px: number; nx: true },
  ): Promise<unknown>;
  /** `EVAL` (a write: Upstash runs it on the primary). */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
}

/** Options of {@linkcode UpstashTokenStore}. */
export interface UpstashTokenStoreOptions {
  /**
   * An `@upstash/redis` client. Give it a short timeout in the *function* form and no
   * retries: `retry: { retries: 0 }` (`retry: false` still makes two attempts in 1.39.0) and
   * `signal: () => AbortSignal.timeout(500)` (an `AbortSignal` object turns a timeout into an
   * empty success in 1.39.0; the store refuses such answers as `bad_answer`), and
   * `automaticDeserialization: false`. `createUpstashTokenStore` does all of it.
   */
  redis: UpstashRedisClient;
  /** base64url of 32 random bytes (`deno task keygen`); seals every record, keys the names. */
  encryptionKey: string;
  /**
   * Earlier keys still accepted when opening records, for rotation: records sealed with
   * them (under the names they derive) are read until they expire, new records use
   * `encryptionKey`.
   */
  previousEncryptionKeys?: string[];
  /** Epoch ms clock for TTLs; default `Date.now`. */
  now?: () => number;
}

/**
 * The Redis key prefix; the version changes only with an incompatible layout. `v2`: sealed
 * and capped failure records, fingerprints inside the authenticated data, keyed key names.
 */
export const REDIS_KEY_PREFIX = "aqc:v2:";

/** Longest a shared failure is trusted, whatever its record says (a Redis writer cannot pin an office). */
export const MAX_SHARED_FAILURE_MS = 5 * 60_000;

// Upstash runs a script under a global lock unless it declares that it touches only its
// KEYS; every script here does. (The dev bridge strips the flag for redis-server, which does
// not know it.)
const SHEBANG = "#!lua flags=allow-key-locking\n";

// A read served by the primary: EVAL is a write for Upstash, so it never goes to a replica.
const FRESH_READ = `${SHEBANG}return redis.call("MGET", unpack(KEYS))`;

// SET NX PX, or, when the caller already holds the lease, extend it. A lease SET that a
// slow or frozen Redis applies after its caller gave up (timed out) is then not an orphan
// that locks its own isolate out until the TTL: the owner simply takes it again.
const ACQUIRE_LEASE =
  `${SHEBANG}if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then return 1 end
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RELEASE_LEASE = `${SHEBANG}if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`;

// Deletes each token record KEYS[k] only if its fingerprint (the field after "v2.") is
// ARGV[k]'s: compare-and-delete without Redis ever holding a readable token. The fingerprint
// is authenticated by the seal, so a forged one does not open.
const DELETE_IF_TOKEN = `${SHEBANG}local deleted = 0
for k = 1, #KEYS do
  local v = redis.call("GET", KEYS[k])
  if v and string.sub(v, 1, #ARGV[k]) == ARGV[k] then
    deleted = deleted + redis.call("DEL", KEYS[k])
  end
end
return deleted`;

// One round trip writes the token and clears the failure a fresh token supersedes.
const WRITE_TOKEN = `${SHEBANG}redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
redis.call("DEL", KEYS[2])
return 1`;

// Written by this and by newer versions (the last two by the token endpoint classification).
const FAILURE_CODES = new Set<string>([
  "credentials_rejected",
  "token_request_rejected",
  "token_endpoint_misconfigured",
  "rate_limited",
  "token_endpoint_unavailable",
  "token_response_invalid",
]);

/** Fingerprint field of a sealed failure record (token fingerprints are 22 characters). */
const FAILURE_MARK = "f";

interface Names {
  tok: string;
  fail: string;
  lease: string;
}

function decodeFailure(plaintext: string | undefined, now: number): StoredFailure | undefined {
  if (plaintext === undefined) return undefined;
  try {
    const { c, s, a, u } = JSON.parse(plaintext) as Record<string, unknown>;
    if (
      typeof c !== "string" || !FAILURE_CODES.has(c) || typeof a !== "number" ||
      typeof u !== "number" || !Number.isFinite(a) || !Number.isFinite(u) || a > u
    ) {
      return undefined;
    }
    // Capped: whatever was written, an office is never held failed longer than this.
    const failure: StoredFailure = {
      code: c as AqcErrorCode,
      at: a,
      until: Math.min(u, now + MAX_SHARED_FAILURE_MS),
    };
    if (typeof s === "number" && Number.isInteger(s)) failure.status = s;
    return failure;
  } catch {
    return undefined;
  }
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

/** A script's integer answer, or a `bad_answer` (e.g. an aborted call read as a success). */
function count(reply: unknown, operation: string): number {
  if (typeof reply === "number" && Number.isInteger(reply) && reply >= 0) return reply;
  throw new StoreError("bad_answer", `Upstash answered an unexpected reply (${operation})`);
}

function strings(reply: unknown, length: number, operation: string): (string | null)[] {
  if (Array.isArray(reply) && reply.length === length) {
    // A value that is not a string (a client with automatic deserialization turns JSON text
    // into objects) is not a record of ours: a miss, like any record that does not open.
    return reply.map((item) => (typeof item === "string" ? item : null));
  }
  throw new StoreError("bad_answer", `Upstash answered an unexpected reply (${operation})`);
}

/**
 * A {@linkcode TokenStore} in Upstash Redis, shared by every isolate in every region.
 *
 * - Keys are `aqc:v2:tok:{name}`, `aqc:v2:lease:{name}` and `aqc:v2:fail:{name}`, where
 *   `name` is an HMAC of the manager's entry id under a key derived from `encryptionKey`: no
 *   office id, client id or secret appears in Redis, and a name cannot be recomputed from
 *   guessed credentials without the encryption key.
 * - Token and failure records are sealed with AES-256-GCM (random 96-bit IV; the Redis key,
 *   the token fingerprint and the key id as additional data; a key id in front for rotation)
 *   and expire at `usableUntil` (failures at most after {@linkcode MAX_SHARED_FAILURE_MS}).
 * - A plain read is one `MGET`, which Upstash may serve from a lagging replica; a fresh read
 *   (`{ fresh: true }`) is one `EVAL`, run on the primary; so are every write,
 *   compare-and-delete and lease call. A record that does not open (tampered, another key's,
 *   another entry's) is a miss, never served.
 * - Every failure is a {@linkcode StoreError} (quota, permission, bad answer, unreachable),
 *   including answers of the wrong shape.
 *
 * @example
 * ```ts ignore
 * import { createUpstashTokenStore } from "@aqc-edge/aqc-edge/upstash";
 * import { TokenManager } from "@aqc-edge/aqc-edge";
 *
 * const store = createUpstashTokenStore({
 *   url: Deno.env.get("UPSTASH_REDIS_REST_URL")!,
 *   token: Deno.env.get("UPSTASH_REDIS_REST_TOKEN")!,
 *   encryptionKey: Deno.env.get("AQC_TOKEN_KEY")!,
 *   timeoutMs: 500,
 * });
 * const tokens = new TokenManager({ credentials, store });
 * ```
 */
export class UpstashTokenStore implements TokenStore {
  readonly #redis: UpstashRedisClient;
  readonly #keys: Promise<SealingKey[]>;
  readonly #now: () => number;
  readonly #names = new Map<string, Promise<Names[]>>();

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

  /** The Redis key names of an entry under each key, current first (cached; ids are few). */
  #namesOf(id: string): Promise<Names[]> {
    let names = this.#names.get(id);
    if (names === undefined) {
      if (this.#names.size >= 4096) this.#names.clear();
      names = this.#keys.then((keys) =>
        Promise.all(keys.map(async (key) => {
          const name = await keyName(key, id);
          return {
            tok: `${REDIS_KEY_PREFIX}tok:${name}`,
            fail: `${REDIS_KEY_PREFIX}fail:${name}`,
            lease: `${REDIS_KEY_PREFIX}lease:${name}`,
          };
        }))
      );
      this.#names.set(id, names);
    }
    return names;
  }

  async #call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw classifyStoreError(operation, error);
    }
  }

  /**
   * Reads the token and the failure of an entry in one round trip: `MGET` (any replica), or
   * with `{ fresh: true }` an `EVAL` of the same `MGET`, which Upstash runs on the primary.
   */
  async read(id: string, options: ReadOptions = {}): Promise<StoredEntry> {
    const names = await this.#namesOf(id);
    const keys = names.flatMap((n) => [n.tok, n.fail]);
    const reply = await this.#call(
      "read",
      () =>
        options.fresh === true ? this.#redis.eval(FRESH_READ, keys, []) : this.#redis.mget(...keys),
    );
    const values = strings(reply, keys.length, "read");
    const all = await this.#keys;
    const now = this.#now();
    const entry: StoredEntry = {};
    for (let i = 0; i < names.length; i++) {
      const [sealedToken, sealedFailure] = [values[2 * i], values[2 * i + 1]];
      if (entry.token === undefined && sealedToken !== null) {
        const token = decodeToken(await open(all, names[i].tok, sealedToken));
        if (token !== undefined) entry.token = token;
      }
      if (entry.failure === undefined && sealedFailure !== null) {
        const failure = decodeFailure(await open(all, names[i].fail, sealedFailure), now);
        if (failure !== undefined) entry.failure = failure;
      }
    }
    return entry;
  }

  /** Seals and stores a token until its `usableUntil`, clearing the office's failure. */
  async writeToken(id: string, token: StoredToken): Promise<void> {
    const ttl = Math.floor(token.usableUntil - this.#now());
    if (ttl <= 0) return;
    const [[key], [names]] = await Promise.all([this.#keys, this.#namesOf(id)]);
    const plaintext = JSON.stringify({
      t: token.accessToken,
      i: token.issuedAt,
      e: token.expiresAt,
      u: token.usableUntil,
    });
    const sealed = await seal(key, names.tok, plaintext, await fingerprint(key, token.accessToken));
    count(
      await this.#call(
        "writeToken",
        () => this.#redis.eval(WRITE_TOKEN, [names.tok, names.fail], [sealed, String(ttl)]),
      ),
      "writeToken",
    );
  }

  /** Deletes the token record only if it still holds `accessToken` (on the primary). */
  async deleteToken(id: string, accessToken: string): Promise<boolean> {
    const [keys, names] = await Promise.all([this.#keys, this.#namesOf(id)]);
    const prefixes = await Promise.all(
      keys.map(async (key) => `${SEAL_VERSION}.${await fingerprint(key, accessToken)}.`),
    );
    const deleted = await this.#call(
      "deleteToken",
      () => this.#redis.eval(DELETE_IF_TOKEN, names.map((n) => n.tok), prefixes),
    );
    return count(deleted, "deleteToken") > 0;
  }

  /** Shares a sealed failure until `failure.until` (at most {@linkcode MAX_SHARED_FAILURE_MS}). */
  async writeFailure(id: string, failure: StoredFailure): Promise<void> {
    const ttl = Math.min(Math.floor(failure.until - this.#now()), MAX_SHARED_FAILURE_MS);
    if (ttl <= 0) return;
    const [[key], [names]] = await Promise.all([this.#keys, this.#namesOf(id)]);
    const plaintext = JSON.stringify({
      c: failure.code,
      ...(failure.status === undefined ? {} : { s: failure.status }),
      a: failure.at,
      u: failure.until,
    });
    const sealed = await seal(key, names.fail, plaintext, FAILURE_MARK);
    const reply = await this.#call(
      "writeFailure",
      () => this.#redis.set(names.fail, sealed, { px: ttl }),
    );
    if (reply !== "OK") {
      throw new StoreError("bad_answer", "Upstash answered an unexpected reply (writeFailure)");
    }
  }

  /** `SET lease owner NX PX ttl`, re-entrant for the owner already holding it (one `EVAL`). */
  async acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const [names] = await this.#namesOf(id);
    const taken = await this.#call(
      "acquireLease",
      () =>
        this.#redis.eval(ACQUIRE_LEASE, [names.lease], [
          owner,
          String(Math.max(1, Math.floor(ttlMs))),
        ]),
    );
    return count(taken, "acquireLease") === 1;
  }

  /** Compare-and-delete of the lease. */
  async releaseLease(id: string, owner: string): Promise<void> {
    const [names] = await this.#namesOf(id);
    count(
      await this.#call(
        "releaseLease",
        () => this.#redis.eval(RELEASE_LEASE, [names.lease], [owner]),
      ),
      "releaseLease",
    );
  }
}
