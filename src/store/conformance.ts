/**
 * A conformance suite for {@linkcode TokenStore} implementations (Deno KV, D1, Durable Objects,
 * …): the behaviour `TokenManager` relies on, as checks that throw an `Error` when a store gets
 * it wrong. It uses no test framework: pass your runner's `test(name, fn)` (Deno's `t.step`,
 * `node:test`'s `test`, vitest's `it`).
 *
 * @example Under Deno
 * ```ts ignore
 * import { testTokenStore } from "@aqc-edge/aqc-edge/testing";
 * import { MemoryTokenStore } from "@aqc-edge/aqc-edge";
 *
 * Deno.test("MemoryTokenStore conforms", async (t) => {
 *   await testTokenStore("memory", () => new MemoryTokenStore(), {
 *     test: (name, fn) => t.step(name, fn),
 *   });
 * });
 * ```
 *
 * @module
 */
import type { StoredToken, TokenStore } from "./store.ts";

/** A store under test; `Symbol.asyncDispose`, if present, is called after each check. */
export type StoreUnderTest = TokenStore & { [Symbol.asyncDispose]?: () => Promise<void> };

/** How {@linkcode testTokenStore} registers its checks. */
export interface ConformanceOptions {
  /**
   * Registers or runs one check, e.g. `(name, fn) => t.step(name, fn)`. When it returns a
   * promise, the suite waits for it before the next check.
   */
  test: (name: string, fn: () => Promise<void>) => unknown;
  /**
   * Slack for expiry checks, in ms (a store whose TTLs are coarse, e.g. whole seconds, needs
   * more). Default 250.
   */
  expirySlackMs?: number;
}

interface Check {
  name: string;
  run(store: TokenStore, slackMs: number): Promise<void>;
}

function fail(message: string): never {
  throw new Error(message);
}

function expect(condition: boolean, message: string): void {
  if (!condition) fail(message);
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 43);
}

function token(accessToken: string, lifetimeMs = 60_000): StoredToken {
  const now = Date.now();
  return { accessToken, issuedAt: now, expiresAt: now + lifetimeMs, usableUntil: now + lifetimeMs };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sameToken(actual: StoredToken | undefined, expected: StoredToken, what: string): void {
  expect(actual !== undefined, `${what}: no token read back`);
  for (const field of ["accessToken", "issuedAt", "expiresAt", "usableUntil"] as const) {
    expect(
      actual![field] === expected[field],
      `${what}: ${field} read back differs from the one written`,
    );
  }
}

const CHECKS: Check[] = [
  {
    name: "an unknown entry reads as empty, plain and fresh",
    async run(store) {
      const id = randomId();
      for (const entry of [await store.read(id), await store.read(id, { fresh: true })]) {
        expect(entry.token === undefined && entry.failure === undefined, "unknown entry not empty");
      }
    },
  },
  {
    name: "a written token reads back unchanged from a fresh read, and only under its id",
    async run(store) {
      const id = randomId();
      const written = token("conformance-token-1");
      await store.writeToken(id, written);
      sameToken((await store.read(id, { fresh: true })).token, written, "fresh read");
      // A plain read may lag (a replica) but never invents a token.
      const plain = (await store.read(id)).token;
      if (plain !== undefined) sameToken(plain, written, "plain read");
      expect((await store.read(randomId())).token === undefined, "token leaked to another id");
      const newer = token("conformance-token-2", 120_000);
      await store.writeToken(id, newer);
      sameToken((await store.read(id, { fresh: true })).token, newer, "overwrite");
    },
  },
  {
    name: "deleteToken is compare-and-delete",
    async run(store) {
      const id = randomId();
      await store.writeToken(id, token("current"));
      expect((await store.deleteToken(id, "another")) === false, "deleted another token's entry");
      expect((await store.read(id, { fresh: true })).token?.accessToken === "current", "lost");
      expect((await store.deleteToken(id, "current")) === true, "did not delete its token");
      expect((await store.read(id, { fresh: true })).token === undefined, "still readable");
      expect((await store.deleteToken(id, "current")) === false, "deleted twice");
    },
  },
  {
    name: "a token is not read after its usableUntil",
    async run(store, slackMs) {
      const id = randomId();
      const now = Date.now();
      await store.writeToken(id, {
        accessToken: "short-lived",
        issuedAt: now,
        expiresAt: now + 1_000 + slackMs,
        usableUntil: now + 1_000,
      });
      await sleep(1_000 + slackMs);
      const read = (await store.read(id, { fresh: true })).token;
      expect(read === undefined || read.usableUntil <= Date.now(), "served after usableUntil");
    },
  },
  {
    name: "a failure is shared with its fields and cleared by a new token",
    async run(store) {
      const id = randomId();
      const at = Date.now();
      await store.writeFailure(id, {
        code: "token_endpoint_unavailable",
        status: 503,
        at,
        until: at + 30_000,
      });
      const failure = (await store.read(id, { fresh: true })).failure;
      expect(failure?.code === "token_endpoint_unavailable", "failure code not read back");
      expect(failure?.status === 503, "failure status not read back");
      expect(failure?.at === at, "failure time not read back");
      expect(failure!.until > Date.now() && failure!.until <= at + 30_000, "failure until wrong");
      await store.writeToken(id, token("after-failure"));
      const entry = await store.read(id, { fresh: true });
      expect(entry.failure === undefined, "a new token did not clear the failure");
      expect(entry.token?.accessToken === "after-failure", "token after failure missing");
    },
  },
  {
    name: "a failure is not read after its until",
    async run(store, slackMs) {
      const id = randomId();
      const at = Date.now();
      await store.writeFailure(id, { code: "rate_limited", at, until: at + 1_000 });
      await sleep(1_000 + slackMs);
      const failure = (await store.read(id, { fresh: true })).failure;
      expect(failure === undefined || failure.until <= Date.now(), "failure outlived its until");
    },
  },
  {
    name: "the lease is exclusive, re-entrant for its owner, released only by its owner",
    async run(store) {
      const id = randomId();
      expect((await store.acquireLease(id, "one", 10_000)) === true, "free lease not taken");
      expect((await store.acquireLease(id, "two", 10_000)) === false, "held lease taken");
      expect((await store.acquireLease(id, "one", 10_000)) === true, "owner could not extend");
      await store.releaseLease(id, "two");
      expect((await store.acquireLease(id, "two", 10_000)) === false, "released by non-owner");
      await store.releaseLease(id, "one");
      expect((await store.acquireLease(id, "two", 10_000)) === true, "not free after release");
      expect((await store.acquireLease(randomId(), "one", 10_000)) === true, "leases not per id");
    },
  },
  {
    name: "a dead holder's lease expires after its TTL",
    async run(store, slackMs) {
      const id = randomId();
      expect((await store.acquireLease(id, "dead", 1_000)) === true, "free lease not taken");
      expect((await store.acquireLease(id, "alive", 1_000)) === false, "held lease taken");
      await sleep(1_000 + slackMs);
      expect((await store.acquireLease(id, "alive", 1_000)) === true, "lease outlived its TTL");
    },
  },
];

/**
 * Runs the conformance checks against stores made by `makeStore` (a fresh one per check; ids
 * are random, so one shared backend is fine). Each check throws an `Error` on a violation.
 *
 * @param name A label put in front of every check's name.
 * @param makeStore Makes the store for one check.
 * @param options The runner's `test` function and the expiry slack.
 * @returns Resolves once every check registered (and, if `test` returns promises, ran).
 */
export async function testTokenStore(
  name: string,
  makeStore: () => StoreUnderTest | Promise<StoreUnderTest>,
  options: ConformanceOptions,
): Promise<void> {
  const slackMs = options.expirySlackMs ?? 250;
  for (const check of CHECKS) {
    await options.test(`${name}: ${check.name}`, async () => {
      const store = await makeStore();
      try {
        await check.run(store, slackMs);
      } finally {
        await store[Symbol.asyncDispose]?.();
      }
    });
  }
}
