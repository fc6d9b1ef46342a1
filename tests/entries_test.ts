/**
 * The published entries (`deno.json` `exports`): what each one exports, and that the root
 * (the token layer) loads no npm package, so it runs on any runtime with `fetch` and WebCrypto.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as root from "../src/mod.ts";
import * as gateway from "../src/gateway/mod.ts";
import { AqcError, isAqcError } from "../src/mod.ts";
import { problemFromError } from "../src/gateway/mod.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The module specifiers of an entry's graph, as `deno info --json` lists them. */
async function moduleGraph(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string }[];
  };
  return info.modules.map((module) => module.specifier);
}

Deno.test("deno info: the root entry's module graph holds no npm package", async () => {
  const modules = await moduleGraph("src/mod.ts");
  assert.ok(modules.length > 5, modules.join("\n"));
  assert.deepEqual(modules.filter((specifier) => !specifier.startsWith("file:")), []);
  assert.ok(modules.every((specifier) => specifier.includes("/src/")), modules.join("\n"));
  // The same check sees npm packages where there are some: ./gateway has Hono and Upstash.
  const gatewayModules = await moduleGraph("src/gateway/mod.ts");
  assert.ok(gatewayModules.some((specifier) => specifier.startsWith("npm:")));
});

Deno.test("deno.json exports the five entries", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}deno.json`));
  assert.deepEqual(config.exports, {
    ".": "./src/mod.ts",
    "./gateway": "./src/gateway/mod.ts",
    "./upstash": "./src/store/upstash_client.ts",
    "./testing": "./src/store/conformance.ts",
    "./worker": "./src/worker.ts",
  });
});

Deno.test("the root exports the token layer only, ./gateway the gateway", () => {
  assert.deepEqual(Object.keys(root).sort(), [
    "AqcError",
    "MemoryTokenStore",
    "TokenManager",
    "UpstashTokenStore",
    "createAqcFetch",
    "isAqcError",
    "normalizeOfficeId",
  ]);
  assert.deepEqual(Object.keys(gateway).sort(), [
    "ConfigError",
    "DEFAULTS",
    "createGateway",
    "createTokenManager",
    "generateGatewayKey",
    "generateTokenKey",
    "loadConfig",
    "problem",
    "problemFromError",
  ]);
});

Deno.test("isAqcError recognises an AqcError of another copy of the package", async () => {
  // A second copy of errors.ts under another specifier: a separate module, a separate class.
  const dir = await Deno.makeTempDir({ prefix: "aqc-copy-" });
  try {
    await Deno.copyFile(`${PROJECT_ROOT}src/errors.ts`, `${dir}/errors.ts`);
    const copy = await import(`file://${dir}/errors.ts`) as typeof import("../src/errors.ts");
    assert.notEqual(copy.AqcError, AqcError);
    const foreign: unknown = new copy.AqcError("upstream_timeout", "AQC did not answer");
    assert.ok(!(foreign instanceof AqcError), "instanceof alone cannot see it");
    assert.ok(isAqcError(foreign));
    assert.ok(isAqcError(foreign, "upstream_timeout"));
    assert.ok(!isAqcError(foreign, "rate_limited"));
    assert.ok(copy.isAqcError(new AqcError("office_invalid", "Office id must be 9 characters")));
    // problemFromError maps it like its own.
    const answer = problemFromError(foreign);
    assert.equal(answer.status, 504);
    assert.equal((await answer.json()).code, "upstream_timeout");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isAqcError does not take look-alikes for AqcErrors", () => {
  for (
    const value of [
      null,
      undefined,
      "AqcError",
      42,
      new Error("plain"),
      { name: "AqcError", code: "rate_limited", message: "forged" },
      Object.assign(new Error("forged"), { code: "rate_limited" }),
    ]
  ) {
    assert.ok(!isAqcError(value), String(value));
  }
});

Deno.test("problemFromError: status per code, Retry-After on 503s, nothing from other errors", async () => {
  const cases: [AqcError, number, string | null][] = [
    [
      new AqcError("credentials_rejected", "Token endpoint rejected the client credentials"),
      502,
      null,
    ],
    [new AqcError("upstream_timeout", "AQC did not answer"), 504, null],
    [new AqcError("office_invalid", "Office id must be 9 characters"), 400, null],
    [new AqcError("token_endpoint_unavailable", "Token endpoint is unavailable"), 503, "1"],
    [new AqcError("rate_limited", "Rate limited", { retryAfterSeconds: 12.2 }), 503, "13"],
  ];
  for (const [error, status, retryAfter] of cases) {
    const answer = problemFromError(error);
    assert.equal(answer.status, status, error.code);
    assert.equal(answer.headers.get("retry-after"), retryAfter, error.code);
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
    const body = await answer.json();
    assert.deepEqual([body.code, body.status, body.detail], [error.code, status, error.message]);
  }
  const secret = "Bearer sk_live_must_not_leak";
  for (const other of [new Error(secret), new TypeError(secret), secret, { message: secret }]) {
    const answer = problemFromError(other);
    assert.equal(answer.status, 500);
    const text = await answer.text();
    assert.ok(!text.includes("sk_live"), text);
    assert.equal(JSON.parse(text).code, "internal_error");
  }
});
