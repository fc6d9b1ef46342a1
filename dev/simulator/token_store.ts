/**
 * The access tokens the simulator has issued, with what the APIs need to judge them.
 *
 * @module
 */

/** A token the simulator issued. */
export interface IssuedToken {
  /** The opaque bearer token (32 base62 characters). */
  accessToken: string;
  /** Client that obtained it. */
  clientId: string;
  /** `guest_office_id` it was issued for. */
  officeId: string;
  /** Simulator clock at issue, epoch ms. */
  issuedAt: number;
  /** Simulator clock at which the APIs start answering 38192, epoch ms. */
  expiresAt: number;
  /** Whether it was revoked (the APIs answer 38193). */
  revoked: boolean;
}

/** Why {@linkcode TokenStore.check} refused a token, or the token itself. */
export type TokenCheck =
  | { ok: true; token: IssuedToken }
  | { ok: false; reason: "unknown" | "expired" | "revoked"; token?: IssuedToken };

// Bounded so a long benchmark cannot grow the heap without limit; the oldest tokens are
// forgotten first and then answer 38190 like any unknown token.
const MAX_TOKENS = 100_000;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Issued tokens in issue order. */
export class TokenStore {
  #tokens = new Map<string, IssuedToken>();

  /**
   * Issues and remembers a new random token.
   *
   * @param fields Who gets it, when, and for how long.
   * @returns The stored token (a live object; copy before handing it out).
   */
  issue(
    fields: { clientId: string; officeId: string; now: number; lifetimeSeconds: number },
  ): IssuedToken {
    const token: IssuedToken = {
      accessToken: randomBase62(32),
      clientId: fields.clientId,
      officeId: fields.officeId,
      issuedAt: fields.now,
      expiresAt: fields.now + fields.lifetimeSeconds * 1000,
      revoked: false,
    };
    this.#tokens.set(token.accessToken, token);
    if (this.#tokens.size > MAX_TOKENS) {
      this.#tokens.delete(this.#tokens.keys().next().value as string);
    }
    return token;
  }

  /**
   * Looks a token up without judging it.
   *
   * @param accessToken The bearer token.
   * @returns The token, or `undefined` when it was never issued (or forgotten).
   */
  get(accessToken: string): IssuedToken | undefined {
    return this.#tokens.get(accessToken);
  }

  /**
   * Judges a presented token the way the AQC APIs do.
   *
   * @param accessToken The bearer token.
   * @param now The simulator clock, epoch ms.
   * @returns The token when usable, otherwise why not.
   */
  check(accessToken: string, now: number): TokenCheck {
    const token = this.#tokens.get(accessToken);
    if (token === undefined) return { ok: false, reason: "unknown" };
    if (token.revoked) return { ok: false, reason: "revoked", token };
    if (now >= token.expiresAt) return { ok: false, reason: "expired", token };
    return { ok: true, token };
  }

  /**
   * Marks one token revoked.
   *
   * @param accessToken The bearer token.
   * @returns Whether the token was known and not yet revoked.
   */
  revoke(accessToken: string): boolean {
    const token = this.#tokens.get(accessToken);
    if (token === undefined || token.revoked) return false;
    token.revoked = true;
    return true;
  }

  /**
   * Marks every token revoked.
   *
   * @returns How many tokens changed state.
   */
  revokeAll(): number {
    let count = 0;
    for (const token of this.#tokens.values()) {
      if (!token.revoked) count++;
      token.revoked = true;
    }
    return count;
  }

  /**
   * Makes a token expired now, whatever its lifetime.
   *
   * @param accessToken The bearer token.
   * @param now The simulator clock, epoch ms.
   * @returns Whether the token was known.
   */
  expire(accessToken: string, now: number): boolean {
    const token = this.#tokens.get(accessToken);
    if (token === undefined) return false;
    token.expiresAt = Math.min(token.expiresAt, now);
    return true;
  }

  /**
   * Copies of every remembered token, oldest first.
   *
   * @returns Detached copies.
   */
  list(): IssuedToken[] {
    return [...this.#tokens.values()].map((t) => ({ ...t }));
  }

  /** Forgets every token. */
  clear(): void {
    this.#tokens.clear();
  }
}

/**
 * A uniformly random base62 string from the platform CSPRNG.
 *
 * @param length Number of characters.
 * @returns The string.
 */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      // Rejection sampling: 248 = 4 × 62, so bytes below it map without bias.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}
