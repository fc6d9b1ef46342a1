/**
 * A 401 is replayed once, and only with a different token: when the token endpoint hands
 * back the very token AQC refused (an OAuth server may re-issue a live token), replaying
 * would only send the refused token twice.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createAqcFetch, TokenManager } from "../src/mod.ts";
import { deadlineTest } from "./helpers/deadline.ts";

const OFFICE = "NCE1A0955";
const SAME_TOKEN = "TheSameTokenEveryTime0123456789";

deadlineTest(
  "a 401 is not replayed when the fresh token is the refused one",
  15_000,
  async ({ defer, signal }) => {
    const seen = { tokenRequests: 0, apiAuthorizations: [] as string[] };
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        await request.body?.cancel();
        if (new URL(request.url).pathname === "/v1/security/oauth2/token") {
          seen.tokenRequests++;
          return Response.json({
            type: "amadeusOAuth2Token",
            token_type: "Bearer",
            access_token: SAME_TOKEN,
            expires_in: 1799,
            state: "approved",
          });
        }
        seen.apiAuthorizations.push(request.headers.get("authorization") ?? "");
        return Response.json(
          { errors: [{ code: 38190, title: "Invalid access token", status: 401 }] },
          { status: 401 },
        );
      },
    );
    defer(() => server.shutdown());
    const tokens = new TokenManager({
      credentials: {
        apiUrl: `http://127.0.0.1:${server.addr.port}`,
        clientId: "client-id",
        clientSecret: "client-secret",
      },
      refreshJitterSeconds: 0,
    });
    defer(() => tokens.whenIdle());
    const aqc = createAqcFetch({ tokens });

    const response = await aqc(OFFICE, "/v1/echo/replay", { signal });
    assert.equal(response.status, 401, "AQC's 401 is returned as it is");
    assert.equal((await response.json()).errors[0].code, 38190);
    assert.equal(seen.tokenRequests, 2, "a fresh token was asked for once");
    assert.deepEqual(
      seen.apiAuthorizations,
      [`Bearer ${SAME_TOKEN}`],
      "the refused token was sent once, not replayed",
    );
  },
);
