/**
 * Interop with a third-party OAuth server nobody here wrote: `oidc-provider` (npm), token
 * route at `/v1/security/oauth2/token`, `client_secret_post`, client credentials grant,
 * run by Deno on a free loopback port and stopped by pid (#11).
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError, TokenManager } from "../src/mod.ts";

const CLIENT_ID = "interop-client";
const CLIENT_SECRET = "interop-secret-0123456789";
const OFFICE = "NCE1A0955";
const TTL_S = 60;

interface OidcServer {
  url: string;
  /** Tokens the server says it issued. */
  issued(): number;
  [Symbol.asyncDispose](): Promise<void>;
}

async function startOidc(): Promise<OidcServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      new URL("./fixtures/oidc_token_server.ts", import.meta.url).pathname,
      CLIENT_ID,
      CLIENT_SECRET,
      String(TTL_S),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let issued = 0;
  let resolvePort: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolvePort(Number(listening[1]));
        if (/^issued \d+$/.test(line)) issued++;
      }
    }
  })();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error("oidc-provider did not start in 30 s")), 30_000)
  );
  let timer: number | undefined;
  try {
    const bound = await Promise.race([port, timeout.finally(() => clearTimeout(timer))]);
    return {
      url: `http://127.0.0.1:${bound}`,
      issued: () => issued,
      async [Symbol.asyncDispose]() {
        child.kill("SIGTERM");
        await child.status;
        await reading;
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    throw error;
  }
}

Deno.test("interop with oidc-provider: token, L1 reuse, refresh, bad secret, wrong URL", async (t) => {
  await using oidc = await startOidc();
  // Lets the issued-count line reach us after the HTTP answer.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

  await t.step("a token, reused from L1, refreshed ahead of expiry", async () => {
    let time = Date.now();
    const tokens = new TokenManager({
      credentials: { apiUrl: oidc.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      now: () => time,
      refreshJitterSeconds: 0,
    });
    const first = await tokens.getToken(OFFICE);
    assert.equal(first.source, "endpoint");
    assert.equal(first.expiresAt - first.issuedAt, TTL_S * 1000);
    const again = await tokens.getToken(OFFICE);
    assert.equal(again.source, "l1");
    assert.equal(again.accessToken, first.accessToken);
    await settle();
    assert.equal(oidc.issued(), 1);
    // Refresh-ahead is scaled to half of a 60 s lifetime and the skew to a quarter: from
    // 30 s on one background refresh while the token is still sent, until 45 s.
    time += 38_000;
    assert.equal((await tokens.getToken(OFFICE)).accessToken, first.accessToken);
    await tokens.whenIdle();
    const refreshed = await tokens.getToken(OFFICE);
    assert.notEqual(refreshed.accessToken, first.accessToken);
    await settle();
    assert.equal(oidc.issued(), 2);
  });

  await t.step("a bad secret is credentials_rejected", async () => {
    const tokens = new TokenManager({
      credentials: { apiUrl: oidc.url, clientId: CLIENT_ID, clientSecret: "not-the-secret" },
    });
    await assert.rejects(
      tokens.getToken(OFFICE),
      (e) => e instanceof AqcError && e.code === "credentials_rejected" && e.status === 401,
    );
  });

  await t.step("an unknown client is credentials_rejected", async () => {
    const tokens = new TokenManager({
      credentials: { apiUrl: oidc.url, clientId: "someone-else", clientSecret: CLIENT_SECRET },
    });
    await assert.rejects(
      tokens.getToken(OFFICE),
      (e) => e instanceof AqcError && e.code === "credentials_rejected",
    );
  });

  await t.step("a wrong API URL is token_endpoint_misconfigured, not credentials", async () => {
    const tokens = new TokenManager({
      credentials: {
        apiUrl: `${oidc.url}/wrong`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
      },
    });
    await assert.rejects(
      tokens.getToken(OFFICE),
      (e) => e instanceof AqcError && e.code === "token_endpoint_misconfigured" && e.status === 404,
    );
  });
});
