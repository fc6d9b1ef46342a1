/**
 * Which L2 reads must reflect the latest write fleet-wide (`read(id, { fresh: true })`):
 * the double-check after taking the lease and every poll while a peer holds it; the first
 * read of a refresh may come from a replica.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryTokenStore, TokenManager, type TokenStore } from "../src/mod.ts";
import { tokenKeyId } from "../src/token/key.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

/** A memory store that records each read's id and whether it asked for a fresh answer. */
function recordingStore(): {
  store: TokenStore;
  inner: MemoryTokenStore;
  reads: { id: string; fresh: boolean }[];
} {
  const inner = new MemoryTokenStore();
  const reads: { id: string; fresh: boolean }[] = [];
  const store: TokenStore = {
    read: (id, options) => {
      reads.push({ id, fresh: options?.fresh === true });
      return inner.read(id);
    },
    writeToken: (id, token) => inner.writeToken(id, token),
    deleteToken: (id, token) => inner.deleteToken(id, token),
    writeFailure: (id, failure) => inner.writeFailure(id, failure),
    acquireLease: (id, owner, ttl) => inner.acquireLease(id, owner, ttl),
    releaseLease: (id, owner) => inner.releaseLease(id, owner),
  };
  return { store, inner, reads };
}

Deno.test("the double-check after taking the lease reads fresh; the first read need not", async () => {
  await using served = await serveSimulator();
  const credentials = {
    apiUrl: served.url,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
  };
  const id = await tokenKeyId(credentials, OFFICE);
  const { store, reads } = recordingStore();
  const tokens = new TokenManager({ credentials, store });
  await tokens.getToken(OFFICE);
  const office = reads.filter((r) => r.id === id);
  assert.deepEqual(office.map((r) => r.fresh), [false, true]);
  await tokens.whenIdle();
});

Deno.test("while a peer holds the lease every poll reads fresh and adopts the peer's token", async () => {
  await using served = await serveSimulator();
  const credentials = {
    apiUrl: served.url,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
  };
  const id = await tokenKeyId(credentials, OFFICE);
  const { store, inner, reads } = recordingStore();
  assert.equal(await inner.acquireLease(id, "a-peer", 10_000), true);
  const tokens = new TokenManager({ credentials, store });
  const pending = tokens.getToken(OFFICE);
  await new Promise((resolve) => setTimeout(resolve, 150));
  const now = Date.now();
  await inner.writeToken(id, {
    accessToken: "PeerToken",
    issuedAt: now,
    expiresAt: now + 1_800_000,
    usableUntil: now + 1_800_000,
  });
  const token = await pending;
  assert.equal(token.accessToken, "PeerToken");
  assert.equal(token.source, "l2");
  const polls = reads.filter((r) => r.id === id).slice(1);
  assert.ok(polls.length >= 2, `${polls.length} polls`);
  assert.ok(polls.every((r) => r.fresh), "every poll asked for a fresh answer");
  assert.equal(served.simulator.counters.tokenRequests, 0);
  await tokens.whenIdle();
});
