/**
 * Expiry is anchored to the moment the token request was SENT (DESIGN §1), not to when the
 * answer came: a slow token endpoint must not stretch a token's life past what AQC granted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";

const OFFICE = "NCE1A0955";
const LIFETIME_S = 1799;
/** How long the endpoint takes to answer, in the manager's (controlled) clock. */
const SLOW_MS = 40_000;

deadlineTest(
  "issuedAt is the send time and expiresAt send time + expires_in with a slow token endpoint",
  15_000,
  async ({ defer }) => {
    const served = await serveSimulator({ knobs: { tokenLifetimeSeconds: LIFETIME_S } });
    defer(() => served.close());
    let time = Date.UTC(2026, 11, 2, 6);
    const sentAt: number[] = [];
    const tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      refreshJitterSeconds: 0,
      now: () => time,
      // A real request to the simulator; the answer "takes" SLOW_MS on the manager's clock.
      fetch: async (input, init) => {
        sentAt.push(time);
        const response = await fetch(input, init);
        time += SLOW_MS;
        return response;
      },
    });
    const token = await tokens.getToken(OFFICE);
    assert.equal(sentAt.length, 1);
    assert.equal(token.source, "endpoint");
    assert.equal(token.issuedAt, sentAt[0], "issuedAt is when the request was sent");
    assert.equal(token.expiresAt, sentAt[0] + LIFETIME_S * 1000);
    assert.ok(token.usableUntil <= token.expiresAt);
    // The simulator agrees: the token it issued has the lifetime it granted.
    assert.equal(served.simulator.counters.tokenRequests, 1);
  },
);
