/**
 * A token endpoint that never answers: the token request times out and the caller gets a
 * typed error soon, instead of waiting forever (the deadline fails this test fast if not).
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";

const OFFICE = "NCE1A0955";

deadlineTest(
  "a hung token endpoint gives token_endpoint_unavailable within the retry deadline",
  10_000,
  async ({ defer }) => {
    const served = await serveSimulator();
    // Closing the simulator drops the connections of the requests it holds.
    defer(() => served.close());
    served.simulator.configure({ tokenFailure: { mode: "hang" } });
    const tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      tokenRequestTimeoutMs: 200,
      retryDeadlineMs: 700,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 50,
      transientFailureSeconds: 0,
    });
    const error = await tokens.getToken(OFFICE).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AqcError, String(error));
    assert.equal(error.code, "token_endpoint_unavailable");
    assert.match(error.message, /did not answer in time/);
    // It retried within its deadline, then gave up.
    const requests = served.simulator.counters.tokenRequests;
    assert.ok(requests >= 2 && requests <= 6, `${requests} token requests`);
    await tokens.whenIdle();
  },
);

deadlineTest(
  "a token endpoint failing with 502 forever: retries stop at the retry deadline",
  10_000,
  async ({ defer }) => {
    const served = await serveSimulator();
    defer(() => served.close());
    // 502, not 503: the simulator's 503 carries Retry-After: 1, which is beyond this
    // deadline, so it is (rightly) not retried at all.
    served.simulator.configure({ tokenFailure: { mode: "status", status: 502 } });
    const tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      retryDeadlineMs: 500,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 50,
    });
    defer(() => tokens.whenIdle());
    const error = await tokens.getToken(OFFICE).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AqcError, String(error));
    assert.equal(error.code, "token_endpoint_unavailable");
    assert.equal(error.status, 502);
    const requests = served.simulator.counters.tokenRequests;
    assert.ok(requests >= 2, `${requests} token requests: it retried`);
  },
);
