/**
 * REDTEAM: a token endpoint (or a proxy before it) answering 503 with `Retry-After: 3600`
 * held the office failed for the full hour in this isolate's negative cache, although the
 * circuit breaker and the shared failure record cap such a header at 5 minutes so that "a
 * broken header may not stop a client for up to an hour".
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager } from "../src/mod.ts";

const OFFICE = "NCE1A0955";

Deno.test("a Retry-After of an hour holds an office failed for at most 5 minutes", async () => {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    requests++;
    if (requests === 1) {
      return new Response("busy", { status: 503, headers: { "retry-after": "3600" } });
    }
    return Response.json({
      token_type: "Bearer",
      access_token: `tok${requests}`,
      expires_in: 1799,
    });
  });
  try {
    let time = Date.UTC(2026, 11, 2, 6);
    const tokens = new TokenManager({
      credentials: {
        apiUrl: `http://127.0.0.1:${server.addr.port}`,
        clientId: "id",
        clientSecret: "secret",
      },
      now: () => time,
    });
    await assert.rejects(
      tokens.getToken(OFFICE),
      (e) => e instanceof AqcError && e.code === "token_endpoint_unavailable",
    );
    time += 5 * 60_000 + 1_000;
    const token = await tokens.getToken(OFFICE);
    assert.equal(token.accessToken, "tok2");
    await tokens.whenIdle();
  } finally {
    await server.shutdown();
  }
});
