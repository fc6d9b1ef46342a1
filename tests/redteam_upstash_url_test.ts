/**
 * REDTEAM: `createUpstashTokenStore` (the `./upstash` entry) accepted `http://` for any
 * host, so a typo'd URL sends the Upstash REST token (full read/write access to the
 * database) in clear text on every call. `loadConfig` already refuses that for
 * `UPSTASH_REDIS_REST_URL`; the factory users call directly must too.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AqcError } from "../src/mod.ts";
import { generateTokenKey } from "../src/gateway/mod.ts";
import { createUpstashTokenStore } from "../src/store/upstash_client.ts";

Deno.test("createUpstashTokenStore refuses clear-text http off loopback and URLs carrying credentials or a query", () => {
  const encryptionKey = generateTokenKey();
  for (
    const url of [
      "http://eu1-fine-cat-12345.upstash.io",
      "https://user:pass@eu1-fine-cat-12345.upstash.io",
      "https://eu1-fine-cat-12345.upstash.io/?_token=x",
    ]
  ) {
    assert.throws(
      () => createUpstashTokenStore({ url, token: "secret-token", encryptionKey }),
      (e) => e instanceof AqcError && e.code === "config_invalid" && !e.message.includes("pass"),
      url,
    );
  }
  // The dev bridge on loopback stays allowed.
  assert.ok(createUpstashTokenStore({ url: "http://127.0.0.1:8079", token: "t", encryptionKey }));
  assert.ok(
    createUpstashTokenStore({
      url: "https://eu1-fine-cat-12345.upstash.io",
      token: "t",
      encryptionKey,
    }),
  );
});
