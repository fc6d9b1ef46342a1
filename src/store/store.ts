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
   * Reads the token and the failure of an entry in one round trip. `fresh: true` means
   * the answer must reflect the latest write fleet-wide (e.g. the Upstash primary, not a
   * replica); stores without replicas may ignore it.
   */
  read(id: string, options?: { fresh?: boolean }): Promise<StoredEntry>;
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
