/**
 * Gateways built in this process (one per simulated isolate) in front of the AQC simulator
 * on loopback, for the ops tests (rate limits, 429 holds, status page).
 *
 * @module
 */
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from "../../dev/simulator/mod.ts";
import {
  type AqcConfig,
  createGateway,
  type GatewayApp,
  type GatewayOptions,
  generateTokenKey,
  loadConfig,
} from "../../src/gateway/mod.ts";
import type { LocalUpstash } from "./redis.ts";

/** The search every ops test sends. */
export const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

/** The environment of a gateway over `apiUrl`, with Upstash when given. */
export function opsEnv(
  apiUrl: string,
  keys: unknown[],
  upstash?: LocalUpstash,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AQC_API_URL: apiUrl,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify(keys),
    ...(upstash === undefined ? {} : {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      AQC_TOKEN_KEY: generateTokenKey(),
    }),
    ...extra,
  };
}

/** One in-process gateway ("isolate") and a helper to call it. */
export interface OpsGateway {
  /** The configuration it was built from. */
  config: AqcConfig;
  /** The app. */
  app: GatewayApp;
  /** `GET /aqc/{office}{path}` with a gateway key. */
  get(key: string, office: string, path?: string): Promise<Response>;
}

/**
 * Builds a gateway from an environment, as `bootstrap` does.
 *
 * @param env The variables.
 * @param options Gateway options.
 * @returns The gateway.
 */
export function opsGateway(env: Record<string, string>, options: GatewayOptions = {}): OpsGateway {
  const config = loadConfig(env);
  const app = createGateway(config, { log: () => {}, ...options });
  return {
    config,
    app,
    get: async (key, office, path = SEARCH) =>
      await app.fetch(
        new Request(`http://127.0.0.1/aqc/${office}${path}`, {
          headers: { authorization: `Bearer ${key}` },
        }),
      ),
  };
}

/** Reads and drops a body, returning the parsed JSON (or `undefined` for non-JSON). */
export async function bodyOf(response: Response): Promise<Record<string, unknown> | undefined> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
