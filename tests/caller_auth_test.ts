/**
 * Gateway key verification: hashed and compared in constant time once, then remembered; and
 * the caller-auth middleware, which answers every `Authorization` header as Hono's bearerAuth
 * (its predecessor, kept here as the oracle) did.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Context, Hono } from "@hono/hono";
import { bearerAuth } from "@hono/hono/bearer-auth";
import { HTTPException } from "@hono/hono/http-exception";
import { generateGatewayKey, loadConfig, problem } from "../src/gateway/mod.ts";
import { callerAuthMiddleware, GatewayKeyVerifier } from "../src/gateway/caller_auth.ts";

async function keys() {
  const web = await generateGatewayKey("web", ["*"]);
  const ops = await generateGatewayKey("ops", ["NCE1A0955"]);
  const config = loadConfig({
    AQC_API_URL: "https://test.travel.api.amadeus.com",
    AQC_CLIENT_ID: "id",
    AQC_CLIENT_SECRET: "secret",
    AQC_GATEWAY_KEYS: JSON.stringify([web.entry, ops.entry]),
  });
  return { web: web.key, ops: ops.key, configured: config.gatewayKeys };
}

Deno.test("a valid key is found by hash, then remembered and answered without hashing", async () => {
  const { web, ops, configured } = await keys();
  const verifier = new GatewayKeyVerifier(configured);
  const first = verifier.verify(web);
  assert.ok(first instanceof Promise, "first sight: hashed");
  assert.equal((await first)?.id, "web");
  const again = verifier.verify(web);
  assert.ok(!(again instanceof Promise), "remembered: answered at once");
  assert.equal(again?.id, "web");
  assert.equal((await verifier.verify(ops))?.id, "ops");
});

Deno.test("wrong keys are never remembered and always hashed", async () => {
  const { web, configured } = await keys();
  const verifier = new GatewayKeyVerifier(configured);
  for (const wrong of [web.slice(0, -1), `${web}x`, "", web.toUpperCase()]) {
    for (let i = 0; i < 2; i++) {
      const answer = verifier.verify(wrong);
      assert.ok(answer instanceof Promise);
      assert.equal(await answer, undefined);
    }
  }
});

/** The variables the gateway's caller auth sets. */
type KeyEnv = { Variables: { gatewayKey: { id: string } } };

/** A key whose characters are outside RFC 6750's `b64token`, and its configured entry. */
async function oddKey(value: string) {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)),
  );
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { id: "odd", sha256, offices: ["*"] };
}

Deno.test("callerAuthMiddleware answers every Authorization header as bearerAuth({ verifyToken }) did", async () => {
  const web = await generateGatewayKey("web", ["*"]);
  const odd = "odd key!";
  const config = loadConfig({
    AQC_API_URL: "https://test.travel.api.amadeus.com",
    AQC_CLIENT_ID: "id",
    AQC_CLIENT_SECRET: "secret",
    AQC_GATEWAY_KEYS: JSON.stringify([web.entry, await oddKey(odd)]),
  });
  const refuse = (c: Context) =>
    problem("unauthorized", c.req.header("authorization") === undefined ? "none" : "invalid", {
      headers: { "www-authenticate": 'Bearer realm="aqc-edge"' },
    });
  /** An app answering 200 with the key id, behind `guard`. */
  const appWith = (guard: (verifier: GatewayKeyVerifier) => unknown) => {
    const app = new Hono<KeyEnv>();
    const verifier = new GatewayKeyVerifier(config.gatewayKeys);
    app.get("/", guard(verifier) as never, (c) => c.text(c.get("gatewayKey").id));
    app.onError((error) => {
      if (error instanceof HTTPException) return error.getResponse();
      throw error;
    });
    return app;
  };
  const ours = appWith((verifier) => callerAuthMiddleware(verifier, refuse));
  const oracle = appWith((verifier) =>
    bearerAuth({
      verifyToken: async (token, c) => {
        const key = await verifier.verify(token);
        // As the gateway did: bearerAuth is typed for the default environment.
        if (key !== undefined) (c as Context<KeyEnv>).set("gatewayKey", key);
        return key !== undefined;
      },
      noAuthenticationHeader: { message: refuse },
      invalidAuthenticationHeader: { message: refuse },
      invalidToken: { message: refuse },
    })
  );
  const headers: (string | undefined)[] = [
    undefined,
    "",
    "Bearer",
    "Bearer ",
    `Bearer ${web.key}`,
    `bearer ${web.key}`,
    `BEARER ${web.key}`,
    `Bearer    ${web.key}`,
    `Bearer ${web.key} `,
    `Bearer\t${web.key}`,
    `Bearer  ${web.key}x`,
    `Bearer ${web.key.slice(0, -1)}`,
    `Bearerx${web.key}`,
    `Basic ${web.key}`,
    `Token ${web.key}`,
    `Bearer ${web.key}==`,
    `Bearer ${odd}`,
    "Bearer odd",
    "Bearer a=b",
    "Bearer ~+/-._",
  ];
  for (const header of headers) {
    const init = header === undefined ? {} : { headers: { authorization: header } };
    const [mine, theirs] = [await ours.request("/", init), await oracle.request("/", init)];
    const label = JSON.stringify(header);
    assert.equal(mine.status, theirs.status, label);
    assert.deepEqual([...mine.headers], [...theirs.headers], label);
    assert.equal(await mine.text(), await theirs.text(), label);
  }
  // Both accept the key, in the spellings bearerAuth accepted, and refuse the odd one.
  assert.equal(
    (await ours.request("/", { headers: { authorization: `bearer ${web.key}` } }))
      .status,
    200,
  );
  assert.equal(
    (await ours.request("/", { headers: { authorization: `Bearer ${odd}` } })).status,
    401,
  );
});
