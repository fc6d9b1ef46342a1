/**
 * The isolate's own guarantees must not lean on L2: with a shared store that keeps nothing
 * (Redis flushed, evicting, or down), stale-if-error still serves the cached token and a
 * rejected credential is still negative-cached, so the token endpoint is not hammered.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, type StoredEntry, TokenManager, type TokenStore } from "../src/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";

const OFFICE = "NCE1A0955";

/** A store that answers at once and keeps nothing (every read is a miss). */
const forgetful: TokenStore = {
  read: (): Promise<StoredEntry> => Promise.resolve({}),
  writeToken: () => Promise.resolve(),
  deleteToken: () => Promise.resolve(false),
  writeFailure: () => Promise.resolve(),
  acquireLease: () => Promise.resolve(true),
  releaseLease: () => Promise.resolve(),
};

function manager(served: ServedSimulator, now: () => number): TokenManager {
  return new TokenManager({
    credentials: {
      apiUrl: served.url,
      clientId: DEFAULT_CLIENT_ID,
      clientSecret: DEFAULT_CLIENT_SECRET,
    },
    store: forgetful,
    now,
    refreshJitterSeconds: 0,
    retryDeadlineMs: 300,
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 50,
  });
}

deadlineTest(
  "stale-if-error: with a store that keeps nothing, failing refreshes keep serving the cached token",
  20_000,
  async ({ defer }) => {
    let time = Date.UTC(2026, 11, 2, 6);
    const served = await serveSimulator({ now: () => time });
    defer(() => served.close());
    const tokens = manager(served, () => time);
    defer(() => tokens.whenIdle());
    const first = await tokens.getToken(OFFICE);
    served.simulator.configure({ tokenFailure: { mode: "status", status: 503 } });
    time = first.expiresAt - 200_000; // inside the refresh window, before usableUntil
    assert.ok(time < first.usableUntil);
    for (let i = 0; i < 5; i++) {
      const token = await tokens.getToken(OFFICE);
      assert.equal(token.accessToken, first.accessToken, `call ${i}`);
      await tokens.whenIdle();
      time += 5_000;
    }
    assert.ok(served.simulator.counters.tokenRequests > 1, "background refreshes were tried");
  },
);

deadlineTest(
  "credentials_rejected is negative-cached in the isolate when the store keeps nothing",
  20_000,
  async ({ defer }) => {
    let time = Date.UTC(2026, 11, 2, 6);
    const served = await serveSimulator({ now: () => time });
    defer(() => served.close());
    served.simulator.configure({ tokenFailure: { mode: "invalid_client" } });
    const tokens = manager(served, () => time);
    defer(() => tokens.whenIdle());
    for (let i = 0; i < 5; i++) {
      const error = await tokens.getToken(OFFICE).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof AqcError && error.code === "credentials_rejected", String(error));
      time += 1_000;
    }
    assert.equal(served.simulator.counters.tokenRequests, 1, "one token request, then cached");
    // Once the negative cache runs out (60 s by default), the endpoint is asked again.
    time += 60_000;
    await tokens.getToken(OFFICE).catch(() => undefined);
    assert.equal(served.simulator.counters.tokenRequests, 2);
  },
);
