/**
 * Runs the local Upstash bridge (SRH-compatible Upstash REST over `redis-server`).
 *
 * ```sh
 * SRH_TOKEN=dev-token SRH_CONNECTION_STRING=redis://127.0.0.1:6379 SRH_PORT=8079 \
 *   deno run --allow-net --allow-env dev/bridge/main.ts
 * ```
 *
 * Then `new Redis({ url: "http://127.0.0.1:8079", token: "dev-token" })`.
 *
 * @module
 */

const USAGE = `Local Upstash: the Upstash Redis REST API over a redis-server (SRH-compatible).

Usage: deno run --allow-net --allow-env dev/bridge/main.ts

Environment:
  SRH_TOKEN              required: the bearer token clients must send
  SRH_CONNECTION_STRING  Redis URL, redis://[[user]:password@]host:port[/db]
                         (default redis://127.0.0.1:6379)
  SRH_PORT               HTTP port (default 8079)
  SRH_HOSTNAME           interface to bind (default 127.0.0.1)

Production habits (also settable at run time: POST /__bridge/habits with the bearer token,
body e.g. {"latencyMs":[40,80],"replicaLagMs":200}; GET /__bridge/habits for counters):
  SRH_LATENCY_MS         per-request latency, "min-max" or "ms" (e.g. 40-80)
  SRH_REPLICA_URL        a second redis-server playing the read replica
  SRH_REPLICA_LAG_MS     delay before writes reach it; reads are then served from it
  SRH_SYNC_TOKENS        "false" to stop sending/honouring upstash-sync-token (default true)
  SRH_FAULT              quota | noperm | html502: answer like Upstash's own errors
  SRH_FAULT_RATE         share of requests the fault hits, 0-1 (default 1)

Endpoints: POST /, POST /pipeline, POST /multi-exec, GET|POST /<command>/<args…>, GET /.
Clients: new Redis({ url: "http://127.0.0.1:8079", token: SRH_TOKEN }) from @upstash/redis.`;

/** Reads the configuration, or returns the one-line reason it is invalid. */
function configure(env: (name: string) => string | undefined):
  | {
    token: string;
    connection: string;
    port: number;
    hostname: string;
    replica?: string;
    habits: Record<string, unknown>;
  }
  | string {
  const token = env("SRH_TOKEN");
  if (token === undefined || token.trim() === "") return "SRH_TOKEN is required";
  const connection = env("SRH_CONNECTION_STRING") ?? "redis://127.0.0.1:6379";
  if (!/^redis:\/\/[^\s]+$/.test(connection)) {
    return "SRH_CONNECTION_STRING must be a redis://host:port URL";
  }
  const portText = env("SRH_PORT") ?? "8079";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    return "SRH_PORT must be a TCP port number";
  }
  const hostname = env("SRH_HOSTNAME") ?? "127.0.0.1";
  const habits: Record<string, unknown> = {};
  const latency = env("SRH_LATENCY_MS");
  if (latency !== undefined) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(latency.trim());
    if (match === null) return "SRH_LATENCY_MS must be ms or min-max";
    habits.latencyMs = [Number(match[1]), Number(match[2] ?? match[1])];
  }
  const replica = env("SRH_REPLICA_URL");
  if (replica !== undefined && !/^redis:\/\/[^\s]+$/.test(replica)) {
    return "SRH_REPLICA_URL must be a redis://host:port URL";
  }
  const lag = env("SRH_REPLICA_LAG_MS");
  if (lag !== undefined) {
    if (replica === undefined) return "SRH_REPLICA_LAG_MS needs SRH_REPLICA_URL";
    if (!/^\d+$/.test(lag)) return "SRH_REPLICA_LAG_MS must be a number of ms";
    habits.replicaLagMs = Number(lag);
  }
  const sync = env("SRH_SYNC_TOKENS");
  if (sync !== undefined) habits.syncTokens = sync !== "false";
  const fault = env("SRH_FAULT");
  if (fault !== undefined && fault !== "") habits.fault = fault;
  const rate = env("SRH_FAULT_RATE");
  if (rate !== undefined) habits.faultRate = Number(rate);
  return {
    token,
    connection,
    port,
    hostname,
    ...(replica === undefined ? {} : { replica }),
    habits,
  };
}

/** Strips the password so the Redis URL can be printed. */
function redact(connection: string): string {
  try {
    const url = new URL(connection);
    if (url.password !== "") url.password = "***";
    return url.href;
  } catch {
    return "(invalid URL)";
  }
}

async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  if (args.length > 0) {
    console.error(`Unknown argument ${args[0]}; see --help`);
    return 2;
  }
  const config = configure((name) => Deno.env.get(name));
  if (typeof config === "string") {
    console.error(`bridge: ${config} (see --help)`);
    return 2;
  }
  // Loaded only now: ioredis' dependencies read the environment at import time, and --help
  // must run without any permission.
  const { createBridge } = await import("./handler.ts");
  let bridge;
  try {
    const { parseHabits } = await import("./habits.ts");
    bridge = createBridge({
      token: config.token,
      connection: config.connection,
      ...(config.replica === undefined ? {} : { replica: config.replica }),
      habits: parseHabits(config.habits),
    });
  } catch (error) {
    console.error(`bridge: ${error instanceof Error ? error.message : error} (see --help)`);
    return 2;
  }
  const server = Deno.serve({
    hostname: config.hostname,
    port: config.port,
    onListen({ hostname, port }) {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      console.log(`bridge: http://${host}:${port} -> ${redact(config.connection)}`);
    },
  }, bridge.fetch);
  const stop = async () => {
    const drained = server.shutdown();
    // Shutdown waits for in-flight requests: closing Redis fails the ones stuck on a hung server.
    await bridge.close();
    await drained;
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
