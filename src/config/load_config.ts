/**
 * `loadConfig`: every `AQC_*` and `UPSTASH_*` variable, validated once at start-up.
 *
 * @module
 */
import { normalizeOfficeId } from "../office.ts";
import { validateApiUrl } from "../token/credentials.ts";
import type { Credentials } from "../token/types.ts";
import { parseEncryptionKey } from "../store/seal.ts";
import { DEFAULTS } from "./defaults.ts";
import { ConfigError, type ConfigIssue, Issues } from "./config_error.ts";
import { type GatewayKey, parseGatewayKeys } from "./gateway_keys.ts";

export { ConfigError, type ConfigIssue, type GatewayKey };

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
  /** `AQC_REFRESH_AHEAD_S`; default `DEFAULTS.refreshAheadSeconds`. */
  refreshAheadSeconds: number;
  /** `AQC_EXPIRY_SKEW_S`; default `DEFAULTS.expirySkewSeconds`. */
  expirySkewSeconds: number;
  /** `AQC_UPSTREAM_TIMEOUT_MS`; default `DEFAULTS.upstreamTimeoutMs`. */
  upstreamTimeoutMs: number;
  /** `AQC_REFRESH_JITTER_S`: upper bound of the per-isolate refresh jitter. */
  refreshJitterSeconds: number;
  /** `AQC_TOKEN_TIMEOUT_MS`: timeout of one token request. */
  tokenRequestTimeoutMs: number;
  /** `AQC_TOKEN_DEADLINE_MS`: deadline of all attempts of one refresh. */
  retryDeadlineMs: number;
  /** `AQC_STORE_TIMEOUT_MS`: timeout of one Upstash call (slower = a miss). */
  storeTimeoutMs: number;
  /** `AQC_MAX_BODY_BYTES`; default `DEFAULTS.maxBodyBytes` (1 MiB). */
  maxBodyBytes: number;
  /** `AQC_EXPOSE_TOKENS=true` enables `POST /token/:office`. */
  exposeTokens: boolean;
  /**
   * `AQC_UPSTREAM_429`: what an AQC 429 does. `local` (default): the office is held in this
   * isolate for its `Retry-After`; `shared` (needs Upstash): held fleet-wide, at the price of
   * one store read per office per second per isolate; `pass`: 429s are only passed back.
   */
  upstream429?: "shared" | "local" | "pass";
  /** Things worth saying once at start-up, e.g. that tokens live in memory only. */
  warnings: readonly string[];
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Whether `AQC_GATEWAY_KEYS` is required (it is for the gateway); default `true`. */
  requireGatewayKeys?: boolean;
}

/** A whole-number tuning variable: its name, the config field it sets, and its range. */
interface Tunable {
  variable: string;
  field:
    | "refreshAheadSeconds"
    | "expirySkewSeconds"
    | "upstreamTimeoutMs"
    | "maxBodyBytes"
    | "refreshJitterSeconds"
    | "tokenRequestTimeoutMs"
    | "retryDeadlineMs"
    | "storeTimeoutMs";
  min: number;
  max: number;
}

/**
 * The numeric tuning variables. Each default is `DEFAULTS[field]`, so the library, the gateway
 * and the README (checked by a test) all say the same.
 */
export const TUNABLES: readonly Tunable[] = [
  { variable: "AQC_REFRESH_AHEAD_S", field: "refreshAheadSeconds", min: 0, max: 3600 },
  { variable: "AQC_EXPIRY_SKEW_S", field: "expirySkewSeconds", min: 0, max: 600 },
  { variable: "AQC_UPSTREAM_TIMEOUT_MS", field: "upstreamTimeoutMs", min: 100, max: 300_000 },
  { variable: "AQC_MAX_BODY_BYTES", field: "maxBodyBytes", min: 1, max: 104_857_600 },
  // Optional tuning of the token engine, mainly for tests and chaos drills that compress time.
  { variable: "AQC_REFRESH_JITTER_S", field: "refreshJitterSeconds", min: 0, max: 600 },
  { variable: "AQC_TOKEN_TIMEOUT_MS", field: "tokenRequestTimeoutMs", min: 100, max: 60_000 },
  { variable: "AQC_TOKEN_DEADLINE_MS", field: "retryDeadlineMs", min: 100, max: 120_000 },
  { variable: "AQC_STORE_TIMEOUT_MS", field: "storeTimeoutMs", min: 10, max: 10_000 },
];

/**
 * Every variable {@linkcode loadConfig} reads, so a host can hand it just these: e.g. Deno under
 * `--allow-env=AQC_API_URL,…`, where reading the whole environment is not allowed.
 */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze([
  "AQC_API_URL",
  "AQC_CLIENT_ID",
  "AQC_CLIENT_SECRET",
  "AQC_OFFICES",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "AQC_TOKEN_KEY",
  "AQC_GATEWAY_KEYS",
  "AQC_EXPOSE_TOKENS",
  "AQC_UPSTREAM_429",
  ...TUNABLES.map((tunable) => tunable.variable),
]);

const MEMORY_STORE_WARNING =
  "UPSTASH_REDIS_REST_URL is not set: tokens are cached in this isolate only (in-memory store)";

function parseInteger(
  env: Record<string, string | undefined>,
  tunable: Tunable,
  problems: Issues,
): number {
  const { variable, min, max } = tunable;
  const fallback = DEFAULTS[tunable.field];
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    // Tuning values are not secrets; cut anyway so a pasted blob cannot flood the log.
    problems.add(
      variable,
      `${variable} must be a whole number from ${min} to ${max}, got "${raw.slice(0, 20)}"`,
    );
    return fallback;
  }
  return Number(raw);
}

/**
 * Reads and validates the configuration from an environment record (`Deno.env.toObject()`
 * on Deno, the `env` bindings on Workers). Every problem is collected, then thrown at
 * once, one line per variable; secret values are never quoted. Defaults come from
 * {@linkcode DEFAULTS}.
 *
 * @example
 * ```ts
 * import { DEFAULTS, loadConfig } from "@aqc-edge/aqc-edge/gateway";
 *
 * const config = loadConfig({
 *   AQC_API_URL: "https://test.travel.api.amadeus.com",
 *   AQC_CLIENT_ID: "my-client-id",
 *   AQC_CLIENT_SECRET: "my-client-secret",
 *   AQC_GATEWAY_KEYS: JSON.stringify([{ id: "web", sha256: "0".repeat(64), offices: ["*"] }]),
 * });
 * if (config.storeTimeoutMs !== DEFAULTS.storeTimeoutMs) throw new Error("unexpected");
 * if (!/in-memory store/.test(config.warnings[0])) throw new Error("unexpected");
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
  const issues = new Issues();
  const warnings: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };

  let apiUrl = "";
  try {
    apiUrl = validateApiUrl(value("AQC_API_URL"), "AQC_API_URL");
  } catch (error) {
    issues.fromError("AQC_API_URL", error);
  }
  const clientId = value("AQC_CLIENT_ID");
  if (clientId === undefined) issues.add("AQC_CLIENT_ID", "AQC_CLIENT_ID is required");
  const clientSecret = value("AQC_CLIENT_SECRET");
  if (clientSecret === undefined) {
    issues.add("AQC_CLIENT_SECRET", "AQC_CLIENT_SECRET is required");
  }
  // Checked here, not only by TokenManager: its error would escape bootstrap naming a
  // library field rather than the variable. The value itself is never quoted.
  const credentialValues: [string, string | undefined][] = [
    ["AQC_CLIENT_ID", clientId],
    ["AQC_CLIENT_SECRET", clientSecret],
  ];
  for (const [name, raw] of credentialValues) {
    if (raw !== undefined && /[\r\n\0]/.test(raw)) {
      issues.add(name, `${name} contains a control character (CR, LF or NUL)`);
    }
  }

  let offices: string[] | undefined;
  const officesRaw = value("AQC_OFFICES");
  if (officesRaw !== undefined) {
    offices = [];
    let invalid = false;
    for (const office of officesRaw.split(",").map((o) => o.trim()).filter((o) => o !== "")) {
      try {
        const canonical = normalizeOfficeId(office);
        if (!offices.includes(canonical)) offices.push(canonical);
      } catch {
        invalid = true;
        issues.add("AQC_OFFICES", `AQC_OFFICES has an invalid office id "${office.slice(0, 20)}"`);
      }
    }
    if (offices.length === 0 && !invalid) {
      issues.add("AQC_OFFICES", "AQC_OFFICES must list at least one office id when set");
    }
  }

  const upstashUrl = value("UPSTASH_REDIS_REST_URL");
  const upstashToken = value("UPSTASH_REDIS_REST_TOKEN");
  const tokenKey = value("AQC_TOKEN_KEY");
  let upstash: UpstashConfig | undefined;
  if (upstashUrl !== undefined || upstashToken !== undefined) {
    if (upstashUrl === undefined) {
      issues.add(
        "UPSTASH_REDIS_REST_URL",
        "UPSTASH_REDIS_REST_URL is required with UPSTASH_REDIS_REST_TOKEN",
      );
    }
    if (upstashToken === undefined) {
      issues.add(
        "UPSTASH_REDIS_REST_TOKEN",
        "UPSTASH_REDIS_REST_TOKEN is required with UPSTASH_REDIS_REST_URL",
      );
    }
    // What the gateway's Upstash client refuses (a header carries the token as it is; Deno's
    // invalid-header error would quote it): named here, never quoted.
    if (upstashToken !== undefined && !/^[\x21-\x7e]+$/.test(upstashToken)) {
      issues.add(
        "UPSTASH_REDIS_REST_TOKEN",
        "UPSTASH_REDIS_REST_TOKEN must be printable ASCII without spaces or control characters",
      );
    }
    if (upstashUrl !== undefined) {
      try {
        validateApiUrl(upstashUrl, "UPSTASH_REDIS_REST_URL");
      } catch (error) {
        issues.fromError("UPSTASH_REDIS_REST_URL", error);
      }
    }
    if (tokenKey === undefined) {
      issues.add(
        "AQC_TOKEN_KEY",
        "AQC_TOKEN_KEY is required when Upstash is configured (run: deno task keygen)",
      );
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
      issues.fromError("AQC_TOKEN_KEY", error);
    }
  }

  let gatewayKeys: GatewayKey[] = [];
  const keysRaw = value("AQC_GATEWAY_KEYS");
  if (keysRaw !== undefined) gatewayKeys = parseGatewayKeys(keysRaw, issues);
  else if (options.requireGatewayKeys ?? true) {
    issues.add("AQC_GATEWAY_KEYS", "AQC_GATEWAY_KEYS is required (run: deno task keygen)");
  }

  const tuning = {} as Record<Tunable["field"], number>;
  for (const tunable of TUNABLES) tuning[tunable.field] = parseInteger(env, tunable, issues);

  const expose = value("AQC_EXPOSE_TOKENS")?.toLowerCase();
  if (expose !== undefined && expose !== "true" && expose !== "false") {
    issues.add(
      "AQC_EXPOSE_TOKENS",
      `AQC_EXPOSE_TOKENS must be true or false, got "${expose.slice(0, 10)}"`,
    );
  }

  const upstream429 = value("AQC_UPSTREAM_429")?.toLowerCase();
  if (upstream429 !== undefined && !["shared", "local", "pass"].includes(upstream429)) {
    issues.add(
      "AQC_UPSTREAM_429",
      `AQC_UPSTREAM_429 must be shared, local or pass, got "${upstream429.slice(0, 10)}"`,
    );
  }

  if (issues.list.length > 0) throw new ConfigError(issues.list);
  return {
    credentials: { apiUrl, clientId: clientId!, clientSecret: clientSecret! },
    ...(offices === undefined ? {} : { offices }),
    ...(upstash === undefined ? {} : { upstash }),
    ...(tokenKey === undefined ? {} : { tokenKey }),
    gatewayKeys,
    ...tuning,
    exposeTokens: expose === "true",
    ...(upstream429 === "shared" || upstream429 === "local" || upstream429 === "pass"
      ? { upstream429 }
      : {}),
    warnings,
  };
}
