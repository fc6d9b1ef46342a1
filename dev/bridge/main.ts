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

Endpoints: POST /, POST /pipeline, POST /multi-exec, GET|POST /<command>/<args…>, GET /.
Clients: new Redis({ url: "http://127.0.0.1:8079", token: SRH_TOKEN }) from @upstash/redis.`;

/** Reads the configuration, or returns the one-line reason it is invalid. */
function configure(env: (name: string) => string | undefined):
  | { token: string; connection: string; port: number; hostname: string }
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
  return { token, connection, port, hostname };
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
  const bridge = createBridge({ token: config.token, connection: config.connection });
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
