/**
 * `loadConfig`: every `AQC_*` and `UPSTASH_*` variable, validated once at start-up.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { normalizeOfficeId } from "../office.ts";
import { validateApiUrl } from "../token/credentials.ts";
import type { Credentials } from "../token/types.ts";
import { parseEncryptionKey } from "../store/seal.ts";
import { encodeBase64Url } from "../token/key.ts";

/** A caller of the gateway: a key (known only by its SHA-256) and the offices it may use. */
export interface GatewayKey {
  /** A name for logs and metrics, e.g. `web`. */
  id: string;
  /** SHA-256 of the key, 32 bytes. */
  sha256: Uint8Array;
  /** The offices this key may call, canonical, or `"*"` for every served office. */
  offices: "*" | ReadonlySet<string>;
}

/** The Upstash REST endpoint and its token. */
export interface UpstashConfig {
  /** `UPSTASH_REDIS_REST_URL`. */
  url: string;
  /** `UPSTASH_REDIS_REST_TOKEN`; a secret. */
  token: string;
}

/** The validated configuration of aqc-edge. */
export interface AqcConfig {
  /** `AQC_API_URL`, `AQC_CLIENT_ID`, `AQC_CLIENT_SECRET`. */
  credentials: Credentials;
  /** `AQC_OFFICES`: the only offices served and the ones prewarmed; absent = any office. */
  offices?: readonly string[];
  /** `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`; absent = in-memory store. */
  upstash?: UpstashConfig;
  /** `AQC_TOKEN_KEY`: seals records in Upstash. */
  tokenKey?: string;
  /** `AQC_GATEWAY_KEYS`: the callers of the gateway. */
  gatewayKeys: readonly GatewayKey[];
  /** `AQC_REFRESH_AHEAD_S`, default 300. */
  refreshAheadSeconds: number;
  /** `AQC_EXPIRY_SKEW_S`, default 30. */
  expirySkewSeconds: number;
  /** `AQC_UPSTREAM_TIMEOUT_MS`, default 30,000. */
  upstreamTimeoutMs: number;
  /** `AQC_REFRESH_JITTER_S`: upper bound of the per-isolate refresh jitter; default 60. */
  refreshJitterSeconds?: number;
  /** `AQC_TOKEN_TIMEOUT_MS`: timeout of one token request; default 5,000. */
  tokenTimeoutMs?: number;
  /** `AQC_TOKEN_DEADLINE_MS`: deadline of all attempts of one refresh; default 10,000. */
  tokenDeadlineMs?: number;
  /** `AQC_STORE_TIMEOUT_MS`: timeout of one Upstash call (slower = a miss); default 500. */
  storeTimeoutMs?: number;
  /** `AQC_MAX_BODY_BYTES`, default 1 MiB. */
  maxBodyBytes: number;
  /** `AQC_EXPOSE_TOKENS=true` enables `POST /token/:office`. */
  exposeTokens: boolean;
  /** Things worth saying once at start-up, e.g. that tokens live in memory only. */
  warnings: readonly string[];
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Whether `AQC_GATEWAY_KEYS` is required (it is for the gateway); default `true`. */
  requireGatewayKeys?: boolean;
}

/**
 * A configuration that failed validation: `problems` holds one line per wrong variable,
 * naming it and never printing a secret's value. The message is those lines.
 */
export class ConfigError extends AqcError {
  /** One line per problem. */
  readonly problems: readonly string[];

  /**
   * Creates the error from its problem lines.
   *
   * @param problems One line per problem.
   */
  constructor(problems: readonly string[]) {
    super("config_invalid", problems.join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const MEMORY_STORE_WARNING =
  "UPSTASH_REDIS_REST_URL is not set: tokens are cached in this isolate only (in-memory store)";

function parseInteger(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  range: { min: number; max: number },
  problems: string[],
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < range.min || Number(raw) > range.max) {
    problems.push(`${name} must be a whole number from ${range.min} to ${range.max}, got "${raw}"`);
    return fallback;
  }
  return Number(raw);
}

function parseGatewayKeys(raw: string, problems: string[]): GatewayKey[] {
  const name = "AQC_GATEWAY_KEYS";
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`${name} must be JSON: [{"id":"web","sha256":"<hex>","offices":["*"]}]`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    problems.push(`${name} must be a non-empty JSON array of keys`);
    return [];
  }
  const keys: GatewayKey[] = [];
  const ids = new Set<string>();
  parsed.forEach((item: unknown, index) => {
    const at = `${name}[${index}]`;
    if (typeof item !== "object" || item === null) {
      problems.push(`${at} must be an object with id, sha256 and offices`);
      return;
    }
    const { id, sha256, offices } = item as Record<string, unknown>;
    if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      problems.push(`${at}.id must be 1 to 64 letters, digits, dots, dashes or underscores`);
      return;
    }
    if (ids.has(id)) problems.push(`${at}.id "${id}" is used twice`);
    ids.add(id);
    if (typeof sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
      problems.push(`${at}.sha256 must be 64 hex characters (SHA-256 of the key)`);
      return;
    }
    const digest = new Uint8Array(32);
    for (let i = 0; i < 32; i++) digest[i] = parseInt(sha256.slice(i * 2, i * 2 + 2), 16);
    if (!Array.isArray(offices) || offices.length === 0) {
      problems.push(`${at}.offices must be a non-empty array of office ids, or ["*"]`);
      return;
    }
    if (offices.includes("*")) {
      if (offices.length > 1) problems.push(`${at}.offices must be ["*"] alone or office ids`);
      keys.push({ id, sha256: digest, offices: "*" });
      return;
    }
    const set = new Set<string>();
    for (const office of offices) {
      try {
        set.add(normalizeOfficeId(office));
      } catch {
        problems.push(`${at}.offices has an invalid office id "${String(office).slice(0, 20)}"`);
      }
    }
    keys.push({ id, sha256: digest, offices: set });
  });
  return keys;
}

/**
 * Reads and validates the configuration from an environment record (`Deno.env.toObject()`
 * on Deno, the `env` bindings on Workers). Every problem is collected, then thrown at
 * once, one line per variable; secret values are never quoted.
 *
 * @example
 * ```ts
 * import { loadConfig } from "@aqc-edge/aqc-edge";
 *
 * const config = loadConfig({
 *   AQC_API_URL: "https://test.travel.api.amadeus.com",
 *   AQC_CLIENT_ID: "my-client-id",
 *   AQC_CLIENT_SECRET: "my-client-secret",
 *   AQC_GATEWAY_KEYS: JSON.stringify([{ id: "web", sha256: "0".repeat(64), offices: ["*"] }]),
 * });
 * console.log(config.warnings); // the in-memory store warning
 * ```
 *
 * @param env The variables.
 * @param options Whether gateway keys are required.
 * @returns The typed configuration.
 * @throws {ConfigError} `config_invalid`, listing every problem.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): AqcConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };

  let apiUrl = "";
  try {
    apiUrl = validateApiUrl(value("AQC_API_URL"), "AQC_API_URL");
  } catch (error) {
    problems.push((error as Error).message);
  }
  const clientId = value("AQC_CLIENT_ID");
  if (clientId === undefined) problems.push("AQC_CLIENT_ID is required");
  const clientSecret = value("AQC_CLIENT_SECRET");
  if (clientSecret === undefined) problems.push("AQC_CLIENT_SECRET is required");

  let offices: string[] | undefined;
  const officesRaw = value("AQC_OFFICES");
  if (officesRaw !== undefined) {
    offices = [];
    for (const office of officesRaw.split(",").map((o) => o.trim()).filter((o) => o !== "")) {
      try {
        const canonical = normalizeOfficeId(office);
        if (!offices.includes(canonical)) offices.push(canonical);
      } catch {
        problems.push(`AQC_OFFICES has an invalid office id "${office.slice(0, 20)}"`);
      }
    }
    if (offices.length === 0 && problems.length === 0) {
      problems.push("AQC_OFFICES must list at least one office id when set");
    }
  }

  const upstashUrl = value("UPSTASH_REDIS_REST_URL");
  const upstashToken = value("UPSTASH_REDIS_REST_TOKEN");
  const tokenKey = value("AQC_TOKEN_KEY");
  let upstash: UpstashConfig | undefined;
  if (upstashUrl !== undefined || upstashToken !== undefined) {
    if (upstashUrl === undefined) {
      problems.push("UPSTASH_REDIS_REST_URL is required with UPSTASH_REDIS_REST_TOKEN");
    }
    if (upstashToken === undefined) {
      problems.push("UPSTASH_REDIS_REST_TOKEN is required with UPSTASH_REDIS_REST_URL");
    }
    if (upstashUrl !== undefined) {
      try {
        validateApiUrl(upstashUrl, "UPSTASH_REDIS_REST_URL");
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (tokenKey === undefined) {
      problems.push("AQC_TOKEN_KEY is required when Upstash is configured (run: deno task keygen)");
    }
    if (upstashUrl !== undefined && upstashToken !== undefined) {
      upstash = { url: upstashUrl.replace(/\/+$/, ""), token: upstashToken };
    }
  } else {
    warnings.push(MEMORY_STORE_WARNING);
  }
  if (tokenKey !== undefined) {
    try {
      parseEncryptionKey(tokenKey, "AQC_TOKEN_KEY");
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  let gatewayKeys: GatewayKey[] = [];
  const keysRaw = value("AQC_GATEWAY_KEYS");
  if (keysRaw !== undefined) gatewayKeys = parseGatewayKeys(keysRaw, problems);
  else if (options.requireGatewayKeys ?? true) {
    problems.push("AQC_GATEWAY_KEYS is required (run: deno task keygen)");
  }

  const refreshAheadSeconds = parseInteger(
    env,
    "AQC_REFRESH_AHEAD_S",
    300,
    { min: 0, max: 3600 },
    problems,
  );
  const expirySkewSeconds = parseInteger(
    env,
    "AQC_EXPIRY_SKEW_S",
    30,
    { min: 0, max: 600 },
    problems,
  );
  const upstreamTimeoutMs = parseInteger(env, "AQC_UPSTREAM_TIMEOUT_MS", 30_000, {
    min: 100,
    max: 300_000,
  }, problems);
  const maxBodyBytes = parseInteger(env, "AQC_MAX_BODY_BYTES", 1_048_576, {
    min: 1,
    max: 104_857_600,
  }, problems);
  // Optional tuning of the token engine, mainly for tests and chaos drills that compress
  // time; the defaults are the TokenManager's own.
  const refreshJitterSeconds = parseInteger(env, "AQC_REFRESH_JITTER_S", 60, {
    min: 0,
    max: 600,
  }, problems);
  const tokenTimeoutMs = parseInteger(env, "AQC_TOKEN_TIMEOUT_MS", 5_000, {
    min: 100,
    max: 60_000,
  }, problems);
  const tokenDeadlineMs = parseInteger(env, "AQC_TOKEN_DEADLINE_MS", 10_000, {
    min: 100,
    max: 120_000,
  }, problems);
  const storeTimeoutMs = parseInteger(env, "AQC_STORE_TIMEOUT_MS", 500, {
    min: 10,
    max: 10_000,
  }, problems);

  const expose = value("AQC_EXPOSE_TOKENS")?.toLowerCase();
  if (expose !== undefined && expose !== "true" && expose !== "false") {
    problems.push(`AQC_EXPOSE_TOKENS must be true or false, got "${expose.slice(0, 10)}"`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const config: AqcConfig = {
    credentials: { apiUrl, clientId: clientId!, clientSecret: clientSecret! },
    gatewayKeys,
    refreshAheadSeconds,
    expirySkewSeconds,
    upstreamTimeoutMs,
    refreshJitterSeconds,
    tokenTimeoutMs,
    tokenDeadlineMs,
    storeTimeoutMs,
    maxBodyBytes,
    exposeTokens: expose === "true",
    warnings,
  };
  if (offices !== undefined) config.offices = offices;
  if (upstash !== undefined) config.upstash = upstash;
  if (tokenKey !== undefined) config.tokenKey = tokenKey;
  return config;
}

/**
 * Makes a new random gateway key and the `AQC_GATEWAY_KEYS` entry that admits it.
 *
 * @example
 * ```ts
 * import { generateGatewayKey } from "@aqc-edge/aqc-edge";
 *
 * const { key, entry } = await generateGatewayKey("web", ["*"]);
 * console.log(JSON.stringify([entry]));
 * ```
 *
 * @param id The key's name.
 * @param offices The offices it may call, or `["*"]`.
 * @returns The key (give it to the caller) and its entry (put it in `AQC_GATEWAY_KEYS`).
 */
export async function generateGatewayKey(
  id: string,
  offices: readonly string[] = ["*"],
): Promise<{ key: string; entry: { id: string; sha256: string; offices: string[] } }> {
  const key = "aqcgw_" + encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
  );
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { key, entry: { id, sha256, offices: [...offices] } };
}

/**
 * Makes a new `AQC_TOKEN_KEY`: base64url of 32 random bytes.
 *
 * @example
 * ```ts
 * import { generateTokenKey } from "@aqc-edge/aqc-edge";
 *
 * console.log(generateTokenKey().length); // 43
 * ```
 *
 * @returns The key text.
 */
export function generateTokenKey(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}
