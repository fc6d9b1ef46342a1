import assert from "node:assert/strict";
import { AqcError } from "../src/mod.ts";
import {
  CONFIG_VARIABLES,
  ConfigError,
  DEFAULTS,
  generateGatewayKey,
  generateTokenKey,
  loadConfig,
} from "../src/gateway/mod.ts";
import { TUNABLES } from "../src/config/load_config.ts";

const SECRET = "client-secret-must-never-print";
const UPSTASH_TOKEN = "upstash-token-must-never-print";

async function baseEnv(): Promise<Record<string, string>> {
  const { entry } = await generateGatewayKey("web", ["nce1a0955"]);
  return {
    AQC_API_URL: "https://test.travel.api.amadeus.com/",
    AQC_CLIENT_ID: "client-id",
    AQC_CLIENT_SECRET: SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  };
}

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.ok(error instanceof AqcError);
    assert.equal(error.code, "config_invalid");
    for (const secret of [SECRET, UPSTASH_TOKEN]) assert.ok(!String(error).includes(secret));
    // Each issue names its variable, and its line starts with it (worker.ts answers with the
    // variables; nobody parses the lines any more).
    for (const issue of error.issues) {
      assert.match(issue.variable, /^[A-Z][A-Z0-9_]*$/);
      assert.ok(issue.message.startsWith(issue.variable), issue.message);
    }
    assert.equal(error.message, error.issues.map((issue) => issue.message).join("\n"));
    return error.issues.map((issue) => issue.message);
  }
  assert.fail("expected a ConfigError");
}

Deno.test("loadConfig reads a minimal configuration with defaults and one warning", async () => {
  const config = loadConfig(await baseEnv());
  assert.equal(config.credentials.apiUrl, "https://test.travel.api.amadeus.com");
  assert.equal(config.refreshAheadSeconds, 300);
  assert.equal(config.expirySkewSeconds, 30);
  assert.equal(config.upstreamTimeoutMs, 30_000);
  assert.equal(config.refreshJitterSeconds, 60);
  assert.equal(config.tokenRequestTimeoutMs, 5_000);
  assert.equal(config.retryDeadlineMs, 10_000);
  assert.equal(config.storeTimeoutMs, 500);
  assert.equal(config.exposeTokens, false);
  assert.equal(config.upstash, undefined);
  assert.equal(config.warnings.length, 1);
  assert.match(config.warnings[0], /in-memory/);
  const [key] = config.gatewayKeys;
  assert.equal(key.id, "web");
  assert.ok(key.offices !== "*" && key.offices.has("NCE1A0955"));
});

Deno.test("loadConfig reads every optional variable", async () => {
  const config = loadConfig({
    ...(await baseEnv()),
    AQC_OFFICES: " nce1a0955, DELAI08AA ,NCE1A0955",
    UPSTASH_REDIS_REST_URL: "https://eu1-fine-cat-1234.upstash.io",
    UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN,
    AQC_TOKEN_KEY: generateTokenKey(),
    AQC_REFRESH_AHEAD_S: "120",
    AQC_EXPIRY_SKEW_S: "10",
    AQC_UPSTREAM_TIMEOUT_MS: "5000",
    AQC_REFRESH_JITTER_S: "0",
    AQC_TOKEN_TIMEOUT_MS: "1500",
    AQC_TOKEN_DEADLINE_MS: "4000",
    AQC_STORE_TIMEOUT_MS: "250",
    AQC_MAX_BODY_BYTES: "2048",
    AQC_EXPOSE_TOKENS: "TRUE",
  });
  assert.deepEqual(config.offices, ["NCE1A0955", "DELAI08AA"]);
  assert.equal(config.upstash?.url, "https://eu1-fine-cat-1234.upstash.io");
  assert.equal(config.refreshAheadSeconds, 120);
  assert.equal(config.expirySkewSeconds, 10);
  assert.equal(config.upstreamTimeoutMs, 5000);
  assert.equal(config.refreshJitterSeconds, 0);
  assert.equal(config.tokenRequestTimeoutMs, 1500);
  assert.equal(config.retryDeadlineMs, 4000);
  assert.equal(config.storeTimeoutMs, 250);
  assert.equal(config.maxBodyBytes, 2048);
  assert.equal(config.exposeTokens, true);
  assert.deepEqual(config.warnings, []);
});

Deno.test("loadConfig names every wrong variable on its own line, never a secret value", async () => {
  const env = await baseEnv();
  const cases: Array<[Record<string, string | undefined>, RegExp]> = [
    [{ AQC_API_URL: undefined }, /^AQC_API_URL is required$/],
    [{ AQC_API_URL: "http://api.example.com" }, /^AQC_API_URL must use https/],
    [{ AQC_API_URL: "not a url" }, /^AQC_API_URL is not an absolute URL$/],
    [{ AQC_API_URL: "https://u:p@api.example.com" }, /^AQC_API_URL must not contain credentials/],
    [{ AQC_CLIENT_ID: " " }, /^AQC_CLIENT_ID is required$/],
    [{ AQC_CLIENT_SECRET: undefined }, /^AQC_CLIENT_SECRET is required$/],
    [{ AQC_OFFICES: "NCE1A0955,bad" }, /^AQC_OFFICES has an invalid office id "bad"$/],
    [
      { UPSTASH_REDIS_REST_URL: "https://x.upstash.io", AQC_TOKEN_KEY: generateTokenKey() },
      /^UPSTASH_REDIS_REST_TOKEN is required/,
    ],
    [
      { UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN, AQC_TOKEN_KEY: generateTokenKey() },
      /^UPSTASH_REDIS_REST_URL is required/,
    ],
    [
      { UPSTASH_REDIS_REST_URL: "https://x.upstash.io", UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN },
      /^AQC_TOKEN_KEY is required when Upstash is configured/,
    ],
    [
      {
        UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
        UPSTASH_REDIS_REST_TOKEN: `${UPSTASH_TOKEN} ${UPSTASH_TOKEN}`,
        AQC_TOKEN_KEY: generateTokenKey(),
      },
      /^UPSTASH_REDIS_REST_TOKEN must be printable ASCII without spaces or control characters$/,
    ],
    [{ AQC_TOKEN_KEY: "c2hvcnQ" }, /^AQC_TOKEN_KEY must be base64url of 32 random bytes/],
    [{ AQC_GATEWAY_KEYS: undefined }, /^AQC_GATEWAY_KEYS is required/],
    [{ AQC_GATEWAY_KEYS: "{" }, /^AQC_GATEWAY_KEYS must be JSON/],
    [{ AQC_GATEWAY_KEYS: "[]" }, /^AQC_GATEWAY_KEYS must be a non-empty JSON array/],
    [
      { AQC_GATEWAY_KEYS: '[{"id":"web","sha256":"abc","offices":["*"]}]' },
      /^AQC_GATEWAY_KEYS\[0\]\.sha256 must be 64 hex characters/,
    ],
    [
      { AQC_GATEWAY_KEYS: `[{"id":"web","sha256":"${"a".repeat(64)}","offices":[]}]` },
      /^AQC_GATEWAY_KEYS\[0\]\.offices must be a non-empty array/,
    ],
    [
      { AQC_GATEWAY_KEYS: `[{"id":"web","sha256":"${"a".repeat(64)}","offices":["NCE"]}]` },
      /^AQC_GATEWAY_KEYS\[0\]\.offices has an invalid office id "NCE"$/,
    ],
    [{ AQC_REFRESH_AHEAD_S: "-1" }, /^AQC_REFRESH_AHEAD_S must be a whole number from 0 to 3600/],
    [{ AQC_EXPIRY_SKEW_S: "1.5" }, /^AQC_EXPIRY_SKEW_S must be a whole number/],
    [{ AQC_UPSTREAM_TIMEOUT_MS: "10" }, /^AQC_UPSTREAM_TIMEOUT_MS must be a whole number from 100/],
    [{ AQC_MAX_BODY_BYTES: "lots" }, /^AQC_MAX_BODY_BYTES must be a whole number/],
    [{ AQC_TOKEN_DEADLINE_MS: "-1" }, /^AQC_TOKEN_DEADLINE_MS must be a whole number from 100/],
    [{ AQC_STORE_TIMEOUT_MS: "5s" }, /^AQC_STORE_TIMEOUT_MS must be a whole number from 10/],
    [{ AQC_EXPOSE_TOKENS: "yes" }, /^AQC_EXPOSE_TOKENS must be true or false/],
  ];
  for (const [override, expected] of cases) {
    const problems = problemsOf({ ...env, ...override });
    assert.equal(problems.length, 1, `${JSON.stringify(override)} → ${problems.join(" | ")}`);
    assert.match(problems[0], expected);
  }
  // Several problems at once: one line each.
  const many = problemsOf({ AQC_CLIENT_SECRET: SECRET, AQC_TOKEN_KEY: SECRET });
  assert.ok(many.length >= 4, many.join("\n"));
  assert.ok(many.every((line) => /^[A-Z_]+/.test(line) && !line.includes("\n")));
});

Deno.test("loadConfig without gateway keys when not required (library use)", async () => {
  const env = await baseEnv();
  delete env.AQC_GATEWAY_KEYS;
  const config = loadConfig(env, { requireGatewayKeys: false });
  assert.deepEqual(config.gatewayKeys, []);
});

Deno.test("ConfigError.issues name each wrong variable, and variables lists each once", () => {
  let caught: unknown;
  try {
    loadConfig({
      AQC_API_URL: "http://api.example.com",
      AQC_CLIENT_SECRET: SECRET,
      AQC_GATEWAY_KEYS: `[{"id":"a","sha256":"x","offices":["*"]},{"id":"b"}]`,
    });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError);
  assert.deepEqual(caught.variables, ["AQC_API_URL", "AQC_CLIENT_ID", "AQC_GATEWAY_KEYS"]);
  assert.equal(caught.issues.filter((issue) => issue.variable === "AQC_GATEWAY_KEYS").length, 2);
});

Deno.test("every default comes from DEFAULTS, and README's configuration table says the same", async () => {
  const config = loadConfig(await baseEnv());
  for (const tunable of TUNABLES) {
    assert.equal(config[tunable.field], DEFAULTS[tunable.field], tunable.variable);
  }
  // README: | `VARIABLE` | … default N |, one row per tunable, N equal to DEFAULTS.
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Configuration"));
  const table = section.slice(0, section.indexOf("\n## ", 3));
  const documented = new Map<string, number>();
  for (const row of table.split("\n").filter((line) => line.startsWith("| `"))) {
    const variable = /^\| `([A-Z0-9_]+)`/.exec(row)?.[1];
    const fallback = /default ([\d_,]+)/.exec(row)?.[1];
    if (variable !== undefined && fallback !== undefined) {
      documented.set(variable, Number(fallback.replaceAll(/[_,]/g, "")));
    }
  }
  for (const tunable of TUNABLES) {
    assert.equal(
      documented.get(tunable.variable),
      DEFAULTS[tunable.field],
      `README default of ${tunable.variable}`,
    );
  }
  assert.deepEqual([...documented.keys()].sort(), TUNABLES.map((t) => t.variable).sort());
});

Deno.test("CONFIG_VARIABLES lists exactly the variables loadConfig reads", async () => {
  const read = new Set<string>();
  const full: Record<string, string> = {
    ...(await baseEnv()),
    UPSTASH_REDIS_REST_URL: "https://eu1-fine-cat-1234.upstash.io",
    UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN,
    AQC_TOKEN_KEY: generateTokenKey(),
  };
  // A proxy that records every name looked up, whether set or not.
  const env = new Proxy(full, {
    get(target, name, receiver) {
      if (typeof name === "string") read.add(name);
      return Reflect.get(target, name, receiver);
    },
  });
  loadConfig(env);
  assert.deepEqual([...read].sort(), [...CONFIG_VARIABLES].sort());
});
