/**
 * The shared-cache (L2) contract that `TokenManager` talks to.
 *
 * @module
 */
import type { AqcErrorCode } from "../errors.ts";

/** A token as kept in a {@linkcode TokenStore}. */
export interface StoredToken {
  /** The bearer token. Stores that leave the process must seal it. */
  accessToken: string;
  /** Epoch ms of the token request that obtained it. */
  issuedAt: number;
  /** Epoch ms at which the token expires. */
  expiresAt: number;
  /** Epoch ms after which it is never sent. */
  usableUntil: number;
}

/** A classified failure shared by every isolate until `until`. */
export interface StoredFailure {
  /** The code every caller of the office gets meanwhile. */
  code: AqcErrorCode;
  /** HTTP status of the token endpoint's answer, when there was one. */
  status?: number;
  /** Epoch ms when the failure was recorded. */
  at: number;
  /** Epoch ms until which the failure stands. */
  until: number;
}

/** What one read of an office's entry returns: its token and its failure, if any. */
export interface StoredEntry {
  /** The shared token, if one is stored and still usable by the store's clock. */
  token?: StoredToken;
  /** The shared failure, if one stands. */
  failure?: StoredFailure;
}

/** Options of {@linkcode TokenStore.read}. */
export interface ReadOptions {
  /**
   * `true`: the read must reflect the latest write fleet-wide (on Upstash: served by the
   * primary, not a replica that may lag). The manager asks for it where a stale answer costs
   * a token request: the poll while a peer holds the lease, the double-check after taking
   * the lease, and a read right after losing the lease. Default `false`: any replica will do.
   */
  fresh?: boolean;
}

/**
 * A shared token cache (L2). `id` is an opaque hash of the credentials and the office, so
 * a store never sees an office id, a client id or a secret. Every method may throw or be
 * slow: `TokenManager` bounds each call with a timeout and treats any failure as a miss.
 *
 * @example A store that forgets everything (every call is a miss)
 * ```ts
 * import type { StoredEntry, TokenStore } from "@aqc-edge/aqc-edge";
 *
 * const nullStore: TokenStore = {
 *   read: (): Promise<StoredEntry> => Promise.resolve({}),
 *   writeToken: () => Promise.resolve(),
 *   deleteToken: () => Promise.resolve(false),
 *   writeFailure: () => Promise.resolve(),
 *   acquireLease: () => Promise.resolve(true),
 *   releaseLease: () => Promise.resolve(),
 * };
 * ```
 */
export interface TokenStore {
  /**
   * Reads the token and the failure of an entry in one round trip. With
   * `{ fresh: true }` the answer must not be older than the latest completed write from any
   * isolate; stores with a single copy of the data can ignore the option.
   */
  read(id: string, options?: ReadOptions): Promise<StoredEntry>;
  /** Stores a token until its `usableUntil`. */
  writeToken(id: string, token: StoredToken): Promise<void>;
  /**
   * Deletes the token only if it is still `accessToken` (compare-and-delete).
   * Resolves `true` when it deleted it.
   */
  deleteToken(id: string, accessToken: string): Promise<boolean>;
  /** Shares a classified failure until `failure.until`. */
  writeFailure(id: string, failure: StoredFailure): Promise<void>;
  /**
   * Takes the refresh lease if nobody holds it (`SET NX PX`), or extends it if `owner`
   * already does (so a lease applied after its caller timed out never locks that caller
   * out). Resolves `true` if taken.
   */
  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases the lease only if `owner` still holds it. */
  releaseLease(id: string, owner: string): Promise<void>;
}
