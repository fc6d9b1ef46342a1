/**
 * An AQC API that never answers: the call fails with `upstream_timeout` after the upstream
 * timeout, instead of holding the caller forever (the deadline fails this test fast if not).
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, createAqcFetch, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";

const OFFICE = "NCE1A0955";

deadlineTest(
  "a hung AQC API gives upstream_timeout after the upstream timeout",
  10_000,
  async ({ defer }) => {
    const served = await serveSimulator();
    defer(() => served.close());
    served.simulator.configure({ apiFailure: { mode: "hang" } });
    const tokens = new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
    });
    defer(() => tokens.whenIdle());
    const aqc = createAqcFetch({ tokens, timeoutMs: 300 });
    for (const timeoutMs of [undefined, 200]) {
      const error = await aqc(OFFICE, "/v1/echo/hang", timeoutMs ? { timeoutMs } : {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof AqcError, String(error));
      assert.equal(error.code, "upstream_timeout");
    }
    assert.equal(served.simulator.counters.tokenRequests, 1);
  },
);
