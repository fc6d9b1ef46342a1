/**
 * The `./gateway` entry of aqc-edge: the Hono gateway, its configuration and problem helpers.
 *
 * Minimal re-export written by the runtimes suite until the entries split lands; that split
 * owns this file.
 *
 * @module
 */
export {
  type AqcConfig,
  ConfigError,
  type GatewayKey,
  generateGatewayKey,
  generateTokenKey,
  loadConfig,
  type LoadConfigOptions,
  type UpstashConfig,
} from "../config/load_config.ts";
export {
  createGateway,
  createTokenManager,
  type CreateTokenManagerOptions,
  type GatewayApp,
  type GatewayEnv,
  type GatewayExecutionContext,
  type GatewayLogEntry,
  type GatewayOptions,
} from "./create_gateway.ts";
export { problem, type ProblemCode, type ProblemOptions } from "./problem.ts";
