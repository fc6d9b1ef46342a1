/**
 * The simulator and the local Upstash as separate processes, with their control APIs.
 *
 * @module
 */
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type IssuedToken,
  type KnobsUpdate,
  type SimulatorCounters,
  type SimulatorKnobs,
  TOKEN_PATH,
} from "../../dev/simulator/mod.ts";
import { BENCH_PERMISSIONS, type Server, startServer } from "./process.ts";
import type { UpstashEndpoint } from "./contenders.ts";

/** The AQC simulator in its own process. */
export interface SimulatorProcess {
  /** The API root (`AQC_API_URL`). */
  readonly url: string;
  /** Counters (logs included). */
  counters(): Promise<SimulatorCounters>;
  /** Every token issued so far. */
  tokens(): Promise<IssuedToken[]>;
  /** Back to the start knobs, no tokens, counters at 0. */
  reset(): Promise<void>;
  /** Changes some knobs. */
  configure(knobs: KnobsUpdate): Promise<void>;
  /**
   * A token obtained outside any contender (not counted), e.g. the fixed token of a floor.
   * Issued with `lifetimeSeconds` (default one hour), then the knobs are restored.
   */
  fixedToken(officeId: string, lifetimeSeconds?: number): Promise<string>;
  /** Stops the process. */
  stop(): Promise<void>;
  /** Same as `stop`. */
  [Symbol.asyncDispose](): Promise<void>;
}

async function json<T>(response: Promise<Response>): Promise<T> {
  const answer = await response;
  if (!answer.ok) throw new Error(`${answer.url}: ${answer.status} ${await answer.text()}`);
  return await answer.json() as T;
}

/**
 * Starts `bench/servers/simulator.ts` (no TCP relay) with `knobs`.
 *
 * @param knobs Simulator knobs at start (and after each reset).
 * @returns The running simulator.
 */
export async function startSimulator(knobs: KnobsUpdate = {}): Promise<SimulatorProcess> {
  const server: Server = await startServer({
    args: ["run", ...BENCH_PERMISSIONS, "bench/servers/simulator.ts", JSON.stringify(knobs)],
    readyPattern: /bench-simulator: (http:\/\/\S+)/,
  });
  const url = server.ready;
  const configure = async (update: KnobsUpdate) => {
    await json(fetch(`${url}/__sim/configure`, { method: "POST", body: JSON.stringify(update) }));
  };
  return {
    url,
    counters: () => json(fetch(`${url}/__sim/counters`)),
    tokens: () => json(fetch(`${url}/__sim/tokens`)),
    reset: async () => {
      await json(fetch(`${url}/__sim/reset`, { method: "POST" }));
    },
    configure,
    fixedToken: async (officeId, lifetimeSeconds = 3600) => {
      const before = await json<SimulatorKnobs>(fetch(`${url}/__sim/knobs`));
      await configure({ tokenLifetimeSeconds: lifetimeSeconds, tokenLatencyMs: 0 });
      try {
        const body = new URLSearchParams({
          grant_type: "client_credentials",
          client_id: DEFAULT_CLIENT_ID,
          client_secret: DEFAULT_CLIENT_SECRET,
          guest_office_id: officeId,
        });
        const token = await json<{ access_token: string }>(
          fetch(`${url}${TOKEN_PATH}`, { method: "POST", body }),
        );
        return token.access_token;
      } finally {
        await configure({
          tokenLifetimeSeconds: before.tokenLifetimeSeconds,
          tokenLatencyMs: before.tokenLatencyMs,
        });
      }
    },
    stop: server.stop,
    [Symbol.asyncDispose]: server.stop,
  };
}

/** The local Upstash (redis-server + counting bridge) in its own process. */
export interface UpstashProcess extends UpstashEndpoint {
  /** `[epochMs, commands]` per REST request since the last reset or flush. */
  log(): Promise<[number, number][]>;
  /** Clears the log. */
  reset(): Promise<void>;
  /** Empties Redis and clears the log. */
  flush(): Promise<void>;
  /** Stops the bridge and Redis. */
  stop(): Promise<void>;
  /** Same as `stop`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `bench/servers/upstash.ts`.
 *
 * @returns The running Upstash.
 */
export async function startUpstashProcess(): Promise<UpstashProcess> {
  const server = await startServer({
    args: ["run", ...BENCH_PERMISSIONS, "bench/servers/upstash.ts"],
    readyPattern: /bench-upstash: (\{.*\})/,
  });
  const { url, token } = JSON.parse(server.ready) as UpstashEndpoint;
  const call = (path: string, method = "POST") =>
    fetch(`${url}/__bench/${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return {
    url,
    token,
    log: () => json(call("log", "GET")),
    reset: async () => {
      await json(call("reset"));
    },
    flush: async () => {
      await json(call("flush"));
    },
    stop: server.stop,
    [Symbol.asyncDispose]: server.stop,
  };
}
