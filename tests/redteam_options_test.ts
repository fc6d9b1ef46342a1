/**
 * REDTEAM: `TokenManager` accepted `retryDeadlineMs: 0` (or `tokenRequestTimeoutMs: 0`,
 * `storeTimeoutMs: 0`), which a user may read as "no retries" / "no limit": every token
 * request then got a 1 ms timeout and no token could ever be obtained, from a healthy
 * endpoint. `loadConfig` refuses such values for the same settings (100 ms / 10 ms floors).
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager, type TokenManagerOptions } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

Deno.test("timeouts too short to ever succeed are config_invalid, not a manager that never gets a token", async () => {
  await using served = await serveSimulator();
  const credentials = {
    apiUrl: served.url,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
  };
  const cases: Partial<TokenManagerOptions>[] = [
    { retryDeadlineMs: 0 },
    { tokenRequestTimeoutMs: 0 },
    { storeTimeoutMs: 0 },
    { retryDeadlineMs: 5 },
  ];
  for (const options of cases) {
    const name = Object.keys(options)[0];
    let outcome: string;
    try {
      const tokens = new TokenManager({ credentials, ...options });
      outcome = await tokens.getToken("NCE1A0955").then(
        () => "token",
        (e) => `getToken: ${e instanceof AqcError ? e.code : e}`,
      );
      await tokens.whenIdle();
    } catch (error) {
      outcome = error instanceof AqcError && error.message.includes(name)
        ? "config_invalid"
        : String(error);
    }
    assert.equal(outcome, "config_invalid", JSON.stringify(options));
  }
  // The floors themselves work.
  const tokens = new TokenManager({
    credentials,
    retryDeadlineMs: 100,
    tokenRequestTimeoutMs: 100,
    storeTimeoutMs: 10,
  });
  assert.equal((await tokens.getToken("NCE1A0955")).officeId, "NCE1A0955");
  await tokens.whenIdle();
});
