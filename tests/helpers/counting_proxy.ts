/**
 * An HTTP pass-through on loopback that counts requests: Redis round trips made by
 * @upstash/redis are the requests it sends to the bridge.
 *
 * @module
 */

/** A running counting proxy. */
export interface CountingProxy {
  /** The proxy URL to give clients instead of the target's. */
  readonly url: string;
  /** Requests forwarded so far. */
  readonly count: number;
  /** Redis commands carried so far (a pipeline counts each of its commands). */
  readonly commands: number;
  /** Sets both counters to 0. */
  reset(): void;
  /** Stops the proxy. */
  stop(): Promise<void>;
  /** Same as stop, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 in front of `target`.
 *
 * @param target The URL to forward to (the bridge).
 * @returns The proxy.
 */
export function startCountingProxy(target: string): CountingProxy {
  let count = 0;
  let commands = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    count++;
    const url = new URL(req.url);
    const body = req.body ? await req.text() : undefined;
    if (body !== undefined && url.pathname !== "/") {
      try {
        const parsed = JSON.parse(body);
        commands += Array.isArray(parsed) && Array.isArray(parsed[0]) ? parsed.length : 1;
      } catch {
        commands++;
      }
    } else commands++;
    const upstream = await fetch(target.replace(/\/$/, "") + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      ...(body !== undefined ? { body } : {}),
    });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  });
  const stop = async () => {
    await server.shutdown();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get count() {
      return count;
    },
    get commands() {
      return commands;
    },
    reset() {
      count = 0;
      commands = 0;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
