/**
 * End to end: the caller's `Authorization` (their gateway key) never reaches AQC; AQC sees
 * exactly one `Authorization`, the AQC bearer the gateway obtained.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { EchoBody } from "../dev/simulator/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";
import { startGatewayFixture } from "./helpers/gateway_fixture.ts";
import { rawHttp } from "./helpers/raw_http.ts";

const OFFICE = "NCE1A0955";

deadlineTest(
  "the caller's Authorization never reaches AQC through the gateway",
  30_000,
  async ({ defer, signal }) => {
    const fixture = await startGatewayFixture([OFFICE]);
    defer(() => fixture.stop());
    const { served, gateway, wildcardKey } = fixture;

    const seen: EchoBody[] = [];
    for (const method of ["GET", "POST"]) {
      const response = await fetch(`${gateway.url}/aqc/${OFFICE}/v1/echo/auth`, {
        method,
        headers: {
          authorization: `Bearer ${wildcardKey}`,
          "proxy-authorization": `Bearer ${wildcardKey}`,
          // An allowlisted header (the request allowlist drops unknown x-* headers).
          "ama-client-ref": "kept",
        },
        ...(method === "POST" ? { body: "{}" } : {}),
        signal,
      });
      assert.equal(response.status, 200, method);
      seen.push(await response.json());
    }
    const bearer = served.simulator.latestToken(OFFICE)?.accessToken;
    assert.ok(bearer !== undefined, "a token was issued");
    for (const echo of seen) {
      assert.equal(echo.headers["authorization"], `Bearer ${bearer}`, "only the AQC bearer");
      assert.equal(echo.headers["ama-client-ref"], "kept", "end-to-end headers still pass");
      for (const [name, value] of Object.entries(echo.headers)) {
        assert.ok(!value.includes(wildcardKey), `the gateway key reached AQC in ${name}`);
      }
      assert.ok(!echo.body.includes(wildcardKey));
    }

    // A request written by hand, with the key in odd spellings of the header name.
    const raw = await rawHttp(gateway.url, `GET /aqc/${OFFICE}/v1/echo/raw HTTP/1.1`, [
      "Host: 127.0.0.1",
      `AUTHORIZATION: Bearer ${wildcardKey}`,
      "Connection: close",
    ]);
    assert.equal(raw.status, 200, raw.body.slice(0, 200));
    const echo = JSON.parse(raw.body) as EchoBody;
    assert.equal(echo.headers["authorization"], `Bearer ${bearer}`);
    assert.ok(!JSON.stringify(echo.headers).includes(wildcardKey));
  },
);
