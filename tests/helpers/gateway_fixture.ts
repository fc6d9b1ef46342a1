/**
 * The gateway as it ships (`deno serve src/main.ts`, a real process) in front of the AQC
 * simulator, both on loopback; configured only through its environment, so tests using it
 * depend on no export of the library.
 *
 * @module
 */
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../../dev/simulator/mod.ts";
import { type ServedMain, serveMain } from "./deno_serve.ts";
import { randomGatewayKey } from "./keys.ts";

/** A running gateway, its simulator and two keys. */
export interface GatewayFixture {
  /** The AQC simulator behind the gateway. */
  served: ServedSimulator;
  /** The gateway process. */
  gateway: ServedMain;
  /** A key allowed every office (`["*"]`). */
  wildcardKey: string;
  /** A key allowed only the offices given to {@linkcode startGatewayFixture}. */
  narrowKey: string;
  /** Stops the gateway, then the simulator. */
  stop(): Promise<void>;
}

/**
 * Starts the simulator and the gateway in front of it.
 *
 * @param narrowOffices The offices of the narrow key.
 * @param env Extra gateway variables (e.g. `AQC_OFFICES`).
 * @returns The fixture; call `stop()`.
 */
export async function startGatewayFixture(
  narrowOffices: string[],
  env: Record<string, string> = {},
): Promise<GatewayFixture> {
  const served = await serveSimulator();
  const wildcard = await randomGatewayKey("wildcard", ["*"]);
  const narrow = await randomGatewayKey("narrow", narrowOffices);
  let gateway: ServedMain;
  try {
    gateway = await serveMain({
      AQC_API_URL: served.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify([wildcard.entry, narrow.entry]),
      ...env,
    });
  } catch (error) {
    await served.close();
    throw error;
  }
  return {
    served,
    gateway,
    wildcardKey: wildcard.key,
    narrowKey: narrow.key,
    async stop() {
      await gateway.stop();
      await served.close();
    },
  };
}
