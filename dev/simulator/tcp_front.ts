/**
 * A byte-level TCP relay in front of `Deno.serve`. `Deno.serve` cannot drop a connection
 * without answering, nor tell a handler cheaply that its client left; the relay can do
 * both, because it owns the client's socket.
 *
 * @module
 */

/** A running relay. */
export interface TcpFront {
  /** Where clients connect. */
  readonly addr: Deno.NetAddr;
  /**
   * The signal that aborts when the client behind a relayed connection disconnects.
   *
   * @param upstreamPort `remoteAddr.port` the backend saw (the relay's local port).
   * @returns The signal, or `undefined` for a connection the relay does not know.
   */
  signalFor(upstreamPort: number): AbortSignal | undefined;
  /**
   * Breaks a relayed connection: the client gets a few non-HTTP bytes (so its `fetch`
   * fails at once and does not silently retry), then both sides are closed.
   *
   * @param upstreamPort `remoteAddr.port` the backend saw.
   */
  drop(upstreamPort: number): void;
  /** Stops accepting new connections. */
  stopAccepting(): void;
  /** Closes every connection and waits until all relay tasks have ended. */
  close(): Promise<void>;
}

interface Pair {
  client: Deno.TcpConn;
  upstream: Deno.TcpConn;
  gone: AbortController;
  /** Set by `drop`: settles once the client has been sent the garbage and closed. */
  dropped?: Promise<void>;
}

// Deno's fetch (like undici) transparently retries a request once when a reused
// keep-alive connection closes before any byte of an answer, which would make a
// one-shot `reset` invisible. A few bytes that are not HTTP make the client fail at
// once, exactly one time, with the same `TypeError` a reset gives.
const NOT_HTTP = new TextEncoder().encode("RESET\r\n\r\n");

/**
 * Starts relaying `listen` → `target`.
 *
 * @param target The backend address (a loopback `Deno.serve`).
 * @param listen Where to accept clients; port 0 picks a free port.
 * @returns The running relay.
 */
export function startTcpFront(
  target: { hostname: string; port: number },
  listen: { hostname: string; port: number },
): TcpFront {
  const listener = Deno.listen({ hostname: listen.hostname, port: listen.port });
  const pairs = new Map<number, Pair>();
  const tasks = new Set<Promise<void>>();
  let accepting = true;

  const track = (task: Promise<void>) => {
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  };

  const closePair = (key: number, pair: Pair) => {
    if (pairs.get(key) === pair) pairs.delete(key);
    pair.gone.abort(new DOMException("The client closed the connection", "AbortError"));
    closeQuietly(pair.client);
    closeQuietly(pair.upstream);
  };

  const relay = async (client: Deno.TcpConn) => {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: target.hostname, port: target.port });
    } catch {
      closeQuietly(client);
      return;
    }
    // Without it, a request written in two parts (headers, then body) can wait for a
    // delayed ACK, adding ~40 ms.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const key = (upstream.localAddr as Deno.NetAddr).port;
    const pair: Pair = { client, upstream, gone: new AbortController() };
    pairs.set(key, pair);
    const dropping = () => pair.dropped !== undefined;
    await Promise.race([copy(client, upstream, dropping), copy(upstream, client, dropping)]);
    if (pair.dropped !== undefined) await pair.dropped;
    closePair(key, pair);
  };

  track((async () => {
    try {
      for await (const client of listener) track(relay(client));
    } catch {
      // The listener was closed.
    }
  })());

  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    closeQuietly(listener);
  };

  return {
    addr: listener.addr,
    signalFor: (port) => pairs.get(port)?.gone.signal,
    drop(port) {
      const pair = pairs.get(port);
      if (pair === undefined || pair.dropped !== undefined) return;
      pair.dropped = pair.client.write(NOT_HTTP).then(
        () => closePair(port, pair),
        () => closePair(port, pair),
      );
    },
    stopAccepting,
    async close() {
      stopAccepting();
      for (const [key, pair] of pairs) closePair(key, pair);
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
  };
}

async function copy(
  from: Deno.TcpConn,
  to: Deno.TcpConn,
  stop: () => boolean,
): Promise<void> {
  // A plain read/write loop: about three times cheaper than `readable.pipeTo(writable)`.
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      // After a drop nothing more may reach the client, not even the backend's answer.
      if (n === null || stop()) return;
      let written = 0;
      while (written < n) written += await to.write(buffer.subarray(written, n));
    }
  } catch {
    // Either side closed: the caller tears the pair down.
  }
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}
