/**
 * REDTEAM: configuration a deployment can really meet. A client id or secret with a control
 * character inside (a pasted value with a CR/LF in the middle) passed `loadConfig` and made
 * `bootstrap` throw the library's `credentials.clientSecret …` error, instead of returning
 * `{ ok: false }` with the variable named, as it does for every other bad variable.
 *
 * @module
 */
import assert from "node:assert/strict";
import { bootstrap } from "../src/gateway/bootstrap.ts";

const SECRET = "s3cr3t\r\nX-Injected: 1";

Deno.test("bootstrap names AQC_CLIENT_SECRET / AQC_CLIENT_ID with a control character, never throws", () => {
  for (const variable of ["AQC_CLIENT_SECRET", "AQC_CLIENT_ID"]) {
    const lines: string[] = [];
    const env: Record<string, string> = {
      AQC_API_URL: "https://test.travel.api.amadeus.com",
      AQC_CLIENT_ID: "client-id",
      AQC_CLIENT_SECRET: "client-secret",
      AQC_GATEWAY_KEYS: JSON.stringify([{ id: "web", sha256: "0".repeat(64), offices: ["*"] }]),
      [variable]: SECRET,
    };
    const started = bootstrap(env, {
      startupLog: { error: (line) => lines.push(line), warn: (line) => lines.push(line) },
    });
    assert.equal(started.ok, false, `${variable}: started`);
    if (started.ok) continue;
    assert.deepEqual(started.variables, [variable]);
    for (const line of lines) assert.ok(!line.includes("s3cr3t"), `the value is quoted: ${line}`);
  }
});
