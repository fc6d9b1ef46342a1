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
 * Unlike the root entry, this one imports npm packages (`hono`, `@upstash/redis`).
 *
 * @example
 * ```ts ignore
 * import { createGateway, createTokenManager, loadConfig } from "@aqc-edge/aqc-edge/gateway";
 *
 * const config = loadConfig(Deno.env.toObject());
 * const tokens = createTokenManager(config);
 * Deno.serve(createGateway(config, { tokens }).fetch);
 * ```
 *
 * @module
 */
export {
  type AqcConfig,
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
