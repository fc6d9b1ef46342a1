/**
 * {@linkcode serveSimulator}: the simulator over real HTTP on loopback, for tests,
 * benchmarks and other processes.
 *
 * @module
 */

import { ConnectionResetError } from "./faults.ts";
import { createSimulator, type Simulator, type SimulatorOptions } from "./simulator.ts";
import { startTcpFront, type TcpFront } from "./tcp_front.ts";

/** Options of {@linkcode serveSimulator}. */
export interface ServeSimulatorOptions extends SimulatorOptions {
  /** Interface to bind; default `127.0.0.1`. */
  hostname?: string;
  /** Port to bind; default 0 (a free port). */
  port?: number;
  /**
   * Relay connections through a TCP front so `reset` faults really drop the connection
   * and a client that gives up ends its hung request at once; default `true`. The relay
   * costs roughly 30 µs per request; with `false` (e.g. for benchmarks) a `reset` is
   * approximated by an empty 502 with `Connection: close` and `X-Sim-Reset: 1`, and
   * hung requests end only at `close()` or `releasePending()`.
   */
  connectionResets?: boolean;
}

/** A simulator listening on loopback. */
export interface ServedSimulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`: the `apiUrl`. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** The simulator behind the URL, for knobs, counters and tokens. */
  readonly simulator: Simulator;
  /**
   * Drops every pending (hung or delayed) request, stops the server and waits until no
   * connection, timer or task is left. Idempotent.
   */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a simulator and serves it over HTTP, silently, on `127.0.0.1` and a free port.
 *
 * @example A test against real HTTP
 * ```ts
 * import { serveSimulator } from "./serve.ts";
 *
 * await using served = await serveSimulator({ knobs: { tokenLatencyMs: 20 } });
 * const res = await fetch(`${served.url}/__sim/counters`);
 * console.log((await res.json()).tokenRequests); // 0
 * ```
 *
 * @param options Simulator options, plus where to listen and whether to relay.
 * @returns The running server; `close()` it (or `await using` it).
 */
export async function serveSimulator(
  options: ServeSimulatorOptions = {},
): Promise<ServedSimulator> {
  const simulator = createSimulator(options);
  const hostname = options.hostname ?? "127.0.0.1";
  const relayed = options.connectionResets !== false;
  // Aborting it ends requests that started before close() and are still reading a body.
  const closing = new AbortController();
  let front: TcpFront | undefined;

  const server = Deno.serve({
    hostname: relayed ? "127.0.0.1" : hostname,
    port: relayed ? 0 : options.port ?? 0,
    onListen() {},
  }, async (request, info) => {
    const port = info.remoteAddr.port;
    const clientGone = front?.signalFor(port);
    const signal = clientGone === undefined
      ? closing.signal
      : AbortSignal.any([clientGone, closing.signal]);
    try {
      return await simulator.handle(request, { signal });
    } catch (error) {
      if (error instanceof ConnectionResetError) {
        if (front === undefined) {
          return new Response(null, {
            status: 502,
            headers: { connection: "close", "x-sim-reset": "1" },
          });
        }
        front.drop(port);
        return new Response(null, { status: 502 });
      }
      // The client left; nobody will read this answer.
      if (clientGone?.aborted) return new Response(null, { status: 499 });
      throw error;
    }
  });

  if (relayed) {
    try {
      front = startTcpFront(server.addr, { hostname, port: options.port ?? 0 });
    } catch (error) {
      await server.shutdown();
      throw error;
    }
  }

  const addr = front?.addr ?? server.addr;
  const port = addr.port;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      front?.stopAccepting();
      closing.abort(new ConnectionResetError("The simulator is closing"));
      simulator.releasePending();
      await server.shutdown();
      await front?.close();
    })();
    return closed;
  };
  return {
    url: `http://${host}:${port}`,
    port,
    simulator,
    close,
    [Symbol.asyncDispose]: close,
  };
}
