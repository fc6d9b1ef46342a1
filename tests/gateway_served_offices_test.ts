/**
 * `AQC_OFFICES` is the list of the only offices served: on the proxy route it binds every
 * key, a `"*"` key included, before any token is requested.
 *
 * @module
 */
import assert from "node:assert/strict";
import { deadlineTest } from "./helpers/deadline.ts";
import { startGatewayFixture } from "./helpers/gateway_fixture.ts";

const SERVED = "NCE1A0955";
const NOT_SERVED = "DELAI08AA";

deadlineTest(
  'AQC_OFFICES refuses an unlisted office on the proxy route even for a "*" key',
  30_000,
  async ({ defer, signal }) => {
    const fixture = await startGatewayFixture([SERVED, NOT_SERVED], { AQC_OFFICES: SERVED });
    defer(() => fixture.stop());
    const { served, gateway } = fixture;
    const call = (office: string, key: string) =>
      fetch(`${gateway.url}/aqc/${office}/v1/echo/offices?x=1`, {
        headers: { authorization: `Bearer ${key}` },
        signal,
      });

    for (const key of [fixture.wildcardKey, fixture.narrowKey]) {
      for (const office of [NOT_SERVED, NOT_SERVED.toLowerCase()]) {
        const refused = await call(office, key);
        assert.equal(
          refused.status,
          403,
          `${office} with the ${key === fixture.wildcardKey ? "*" : "narrow"} key`,
        );
        assert.equal(refused.headers.get("content-type"), "application/problem+json");
        assert.equal((await refused.json()).code, "office_forbidden");
      }
    }
    // Nothing reached AQC for the unlisted office: no token, no API call.
    assert.equal(served.simulator.counters.tokenRequestsByOffice[NOT_SERVED] ?? 0, 0);
    assert.equal(served.simulator.counters.apiRequests, 0);

    // The listed office is served to both keys.
    for (const key of [fixture.wildcardKey, fixture.narrowKey]) {
      const allowed = await call(SERVED, key);
      assert.equal(allowed.status, 200);
      assert.equal((await allowed.json()).office, SERVED);
    }
    assert.equal(served.simulator.counters.apiRequests, 2);
  },
);
