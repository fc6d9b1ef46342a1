/**
 * aqc-edge gateway: the deployable Web-standard `fetch` handler (Hono) that calls AQC for its
 * callers, the configuration it reads, and the problem+json helpers.
 *
 * - {@linkcode createGateway}: the Hono app; `app.fetch` serves `Deno.serve`, `deno serve`,
 *   Workers, Bun and `@hono/node-server`.
 * - {@linkcode loadConfig}: every `AQC_*` / `UPSTASH_*` variable, validated at once
 *   ({@linkcode ConfigError} lists each wrong variable); defaults in {@linkcode DEFAULTS}.
 * - {@linkcode createTokenManager}: the `TokenManager` a configuration describes.
 * - {@linkcode problem}, {@linkcode problemFromError}: RFC 9457 answers.
 *
 * Unlike the root entry, this one imports an npm package (`hono`). It does not import
 * `@upstash/redis`: with `UPSTASH_*` set, the gateway talks to Upstash through its own fetch-only
 * client (three commands, one attempt, a timeout per call); `./upstash` keeps `@upstash/redis`.
 *
 * @example
 * ```ts
 * import {
 *   createGateway,
 *   createTokenManager,
 *   generateGatewayKey,
 *   loadConfig,
 * } from "@aqc-edge/aqc-edge/gateway";
 *
 * const { key, entry } = await generateGatewayKey("web", ["*"]);
 * const config = loadConfig({
 *   AQC_API_URL: "https://test.travel.api.amadeus.com",
 *   AQC_CLIENT_ID: "my-client-id",
 *   AQC_CLIENT_SECRET: "my-client-secret",
 *   AQC_GATEWAY_KEYS: JSON.stringify([entry]),
 * });
 * const app = createGateway(config, { tokens: createTokenManager(config) });
 * // Deno.serve(app.fetch) in a real deployment; `request` answers without a server.
 * if ((await app.request("/healthz")).status !== 200) throw new Error("unexpected");
 * const forbidden = await app.request("/aqc/NCE1A0955/v1/x", {
 *   headers: { authorization: "Bearer not-a-key" },
 * });
 * if (forbidden.status !== 401) throw new Error("unexpected");
 * if (!key.startsWith("aqcgw_")) throw new Error("unexpected");
 * ```
 *
 * @module
 */
export {
  type AqcConfig,
  CONFIG_VARIABLES,
  ConfigError,
  type ConfigIssue,
  type GatewayKey,
  loadConfig,
  type LoadConfigOptions,
  type UpstashConfig,
} from "../config/load_config.ts";
export { DEFAULTS, type Defaults } from "../config/defaults.ts";
export { type GeneratedGatewayKey, generateGatewayKey, generateTokenKey } from "../config/keys.ts";
export {
  createGateway,
  type GatewayApp,
  type GatewayExecutionContext,
  type GatewayLogEntry,
  type GatewayOptions,
} from "./create_gateway.ts";
export { createTokenManager, type CreateTokenManagerOptions } from "./token_manager.ts";
export { problem, type ProblemCode, type ProblemOptions } from "./problem.ts";
export { problemFromError } from "./problem_from_error.ts";
export type { GuardEvent } from "./ops_guard.ts";
export type { GatewayTelemetry, GuardState, TelemetryContext } from "./telemetry.ts";
export type { OfficeStatus, StatusSnapshot } from "./status/snapshot.ts";
export type { MinuteStats } from "./status/stats.ts";
export type { RateLimit } from "../config/key_options.ts";
