/**
 * REDTEAM: a token endpoint that answers slower than the lifetime it grants (e.g.
 * `expires_in: 0.05` after 200 ms) made `getToken` resolve with a token already past its
 * `usableUntil`, which the API promises never happens: the fresh token was handed out
 * without a look at the clock.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager } from "../src/mod.ts";

const OFFICE = "NCE1A0955";

Deno.test("a token that expired before it arrived is never handed out", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    await new Promise((r) => setTimeout(r, 200));
    return Response.json({ token_type: "Bearer", access_token: "late", expires_in: 0.05 });
  });
  try {
    const tokens = new TokenManager({
      credentials: {
        apiUrl: `http://127.0.0.1:${server.addr.port}`,
        clientId: "id",
        clientSecret: "secret",
      },
      retryDeadlineMs: 1_000,
    });
    const outcome = await tokens.getToken(OFFICE).then(
      (token) => ({ late: Date.now() - token.usableUntil }),
      (error) => ({ code: error instanceof AqcError ? error.code : String(error) }),
    );
    await tokens.whenIdle();
    assert.deepEqual(outcome, { code: "token_response_invalid" });
  } finally {
    await server.shutdown();
  }
});
