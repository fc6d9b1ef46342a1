/**
 * The `Host` header cannot move the route: the server builds `request.url` from it, so a Host
 * holding a path (`evil.example/aqc/OTHER`) must be refused, not routed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createGateway, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import { createSimulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from "../dev/simulator/mod.ts";

Deno.test("a Host header that is not host[:port] is a 400 before any token or upstream call", async () => {
  const sim = createSimulator();
  const { key, entry } = await generateGatewayKey("web", ["*"]);
  const config = loadConfig({
    AQC_API_URL: "http://127.0.0.1:9",
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  });
  const app = createGateway(config, { fetch: sim.fetch });
  // What Deno hands the handler for `GET /aqc/NCE1A0955/v1/echo/x` with
  // `Host: evil.example/aqc/DELAI08AA`: the Host's path comes first in the URL, and the
  // route would read office DELAI08AA.
  const cases: Array<[string, string]> = [
    ["evil.example/aqc/DELAI08AA", "http://evil.example/aqc/DELAI08AA/aqc/NCE1A0955/v1/echo/x"],
  ];
  for (
    const host of ["evil.example?x=", "evil.example#", "user@evil.example", "evil\\x", "a, b", ""]
  ) {
    cases.push([host, "http://gateway.example/aqc/NCE1A0955/v1/echo/x"]);
  }
  for (const [host, url] of cases) {
    const response = await app.fetch(
      new Request(url, { headers: { host, authorization: `Bearer ${key}` } }),
    );
    assert.equal(response.status, 400, host);
    assert.equal((await response.json()).code, "path_invalid");
  }
  assert.equal(sim.counters.tokenRequests, 0);
  assert.equal(sim.counters.apiRequests, 0);
  for (const host of ["gateway.example", "gateway.example:8443", "127.0.0.1:8000", "[::1]:8000"]) {
    const response = await app.fetch(
      new Request(`http://${host}/aqc/NCE1A0955/v1/echo/x`, {
        headers: { host, authorization: `Bearer ${key}` },
      }),
    );
    assert.equal(response.status, 200, host);
    assert.equal((await response.json()).office, "NCE1A0955");
  }
});
