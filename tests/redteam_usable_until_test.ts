/**
 * REDTEAM: a token adopted from the shared store is judged by the record's own
 * `usableUntil`, then installed with this manager's (stricter) schedule. When the writer
 * allowed more (a peer with a smaller `expirySkewSeconds` during a rolling change, or a
 * third-party `TokenStore`), the caller received a token already past its `usableUntil`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryTokenStore, TokenManager } from "../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";

const OFFICE = "NCE1A0955";

Deno.test("a token adopted from L2 is never handed out past this manager's usableUntil", async () => {
  let time = Date.UTC(2026, 11, 2, 6);
  const now = (): number => time;
  await using served = await serveSimulator({ now });
  const store = new MemoryTokenStore({ now });
  const manager = (skew: number): TokenManager =>
    new TokenManager({
      credentials: {
        apiUrl: served.url,
        clientId: DEFAULT_CLIENT_ID,
        clientSecret: DEFAULT_CLIENT_SECRET,
      },
      store,
      now,
      expirySkewSeconds: skew,
      refreshJitterSeconds: 0,
    });
  const lenient = manager(0);
  const first = await lenient.getToken(OFFICE);
  await lenient.whenIdle();
  // 10 s before expiry: inside a 30 s skew, still usable for a 0 s skew.
  time = first.expiresAt - 10_000;
  const strict = manager(30);
  const token = await strict.getToken(OFFICE);
  await strict.whenIdle();
  assert.ok(
    token.usableUntil > time,
    `handed out ${(time - token.usableUntil) / 1000} s past its usableUntil`,
  );
  assert.notEqual(token.accessToken, first.accessToken, "a new token was obtained instead");
});
