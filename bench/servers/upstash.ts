/**
 * A local Upstash for the benchmarks, in its own process like the real one: a
 * `redis-server` and the SRH-compatible REST bridge, counting the Redis commands it carries
 * (a pipeline counts each of its commands) with their arrival times.
 *
 * Prints `bench-upstash: {"url","token"}` once ready. With the bearer token:
 * `GET /__bench/log` → `[[epochMs, commands], …]` since the last reset;
 * `POST /__bench/reset` clears the log; `POST /__bench/flush` empties Redis and the log.
 * Stops Redis on SIGTERM.
 *
 * @module
 */
import { createBridge } from "../../dev/bridge/handler.ts";
import { redisCommand, startRedis } from "../../tests/helpers/redis.ts";

if (import.meta.main) {
  const redis = await startRedis();
  const token = crypto.getRandomValues(new Uint8Array(18)).toBase64({ alphabet: "base64url" });
  const bridge = createBridge({ token, connection: redis.url });
  let log: [number, number][] = [];
  const authorized = (request: Request) =>
    request.headers.get("authorization") === `Bearer ${token}`;

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/__bench/")) {
      if (!authorized(request)) return new Response(null, { status: 401 });
      if (path === "/__bench/log") return Response.json(log);
      if (path === "/__bench/flush") await redisCommand(redis.port, ["FLUSHALL"]);
      log = [];
      return Response.json({ ok: true });
    }
    let commands = 1;
    if (path === "/pipeline" || path === "/multi-exec") {
      try {
        const parsed: unknown = await request.clone().json();
        if (Array.isArray(parsed)) commands = parsed.length;
      } catch {
        // Counted as one; the bridge answers the error.
      }
    }
    log.push([Date.now(), commands]);
    return await bridge.fetch(request);
  });
  console.log(
    `bench-upstash: ${JSON.stringify({ url: `http://127.0.0.1:${server.addr.port}`, token })}`,
  );
  const stop = async () => {
    const drained = server.shutdown();
    await bridge.close();
    await drained;
    await redis.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
