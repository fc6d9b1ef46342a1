/**
 * createAqcFetch and AQC's 401s: only a 401 about the token costs the token. Against the
 * simulator over real HTTP, and a bare loopback server for challenges AQC may send.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createAqcFetch, TokenManager } from "../src/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

function setup(served: ServedSimulator, apiUrl = served.url) {
  const tokens = new TokenManager({
    credentials: { apiUrl, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
    // These tests are about which 401s createAqcFetch treats as token rejections; the
    // manager's eviction window (one eviction per office per 30 s) would hide every
    // eviction after the first. tests/token_abuse_test.ts covers the window.
    evictionWindowSeconds: 0,
    // Token requests always go to the simulator, whatever answers the APIs.
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      return fetch(`${served.url}${url.pathname}`, init);
    },
  });
  return { tokens, aqc: createAqcFetch({ tokens }) };
}

Deno.test("a 401 that is not about the token passes through, the token stays, nothing is replayed", async () => {
  await using served = await serveSimulator({ knobs: { apiFailure: { mode: "unauthorized" } } });
  const { aqc, tokens } = setup(served);
  const token = await tokens.getToken(OFFICE);
  for (let i = 0; i < 50; i++) {
    const response = await aqc(OFFICE, "/v1/echo/refused");
    assert.equal(response.status, 401);
    const body = await response.json();
    assert.equal(body.errors[0].code, 38197);
  }
  const counters = served.simulator.counters;
  assert.equal(counters.apiRequests, 50, "never replayed");
  assert.equal(counters.tokenRequests, 1, "50 refusals cost no token");
  assert.equal((await tokens.getToken(OFFICE)).accessToken, token.accessToken);
});

Deno.test("each of AQC's token codes 38190–38193 evicts and replays once", async () => {
  for (const code of [38190, 38191, 38192, 38193, "38192"]) {
    await using served = await serveSimulator({
      knobs: {
        apiFailure: {
          mode: "status",
          status: 401,
          body: JSON.stringify({ errors: [{ status: 401, code, title: "Token refused" }] }),
          remaining: 1,
        },
      },
    });
    const { aqc } = setup(served);
    const response = await aqc(OFFICE, "/v1/echo/x");
    assert.equal(response.status, 200, String(code));
    await response.body?.cancel();
    assert.equal(served.simulator.counters.tokenRequests, 2, String(code));
    assert.equal(served.simulator.counters.apiRequests, 2, String(code));
  }
});

Deno.test("a revoked token (AQC's 401 with code and challenge, gzip-compressed) is replaced", async () => {
  await using served = await serveSimulator();
  const { aqc, tokens } = setup(served);
  const first = await tokens.getToken(OFFICE);
  served.simulator.revoke(first.accessToken);
  const response = await aqc(OFFICE, "/v1/echo/x", { headers: { "accept-encoding": "gzip" } });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const log = served.simulator.counters.apiLog;
  assert.equal(log[0].status, 401);
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("WWW-Authenticate decides when the body says nothing: invalid_token evicts, others do not", async () => {
  let challenge = "";
  let bodyText = "";
  const api = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(bodyText, {
        status: 401,
        headers: challenge === "" ? {} : { "www-authenticate": challenge },
      }),
  );
  try {
    await using served = await serveSimulator();
    const { aqc } = setup(served, `http://127.0.0.1:${api.addr.port}`);
    const cases: [string, string, boolean][] = [
      ['Bearer realm="AQC", error="invalid_token", error_description="expired"', "", true],
      ["Bearer error=invalid_token", "", true],
      ['bearer error="INVALID_TOKEN"', "<html>nope</html>", true],
      ['Bearer realm="AQC", error="insufficient_scope"', "", false],
      ['Basic realm="x", error="invalid_token"', "", false],
      ['Bearer error="invalid_tokens"', "", false],
      ["", "<html>401</html>", false],
      ["", '{"errors":[{"code":38197}]}', false],
      ["", '{"errors":"38190"}', false],
      ["", "x".repeat(100_000) + '{"errors":[{"code":38190}]}', false],
    ];
    let expected = 1;
    for (const [value, text, evicts] of cases) {
      challenge = value;
      bodyText = text;
      const response = await aqc(OFFICE, "/v1/x");
      assert.equal(response.status, 401);
      assert.equal(await response.text(), text, "the 401 body passes through whole");
      if (evicts) expected++;
      assert.equal(
        served.simulator.counters.tokenRequests,
        expected,
        `${value} ${text.slice(0, 30)}`,
      );
    }
  } finally {
    await api.shutdown();
  }
});
