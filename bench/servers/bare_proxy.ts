/**
 * The bare pass-through proxy the gateway is compared with: same runtime, same upstream,
 * same route shape (`/aqc/{office}/…` → `{upstream}/…`), a fixed bearer token, and nothing
 * else: no caller auth, no token cache, no header filtering, no timing, no limits.
 *
 * Served by `deno serve` with `BENCH_UPSTREAM` and `BENCH_TOKEN` in the environment:
 *
 * ```sh
 * BENCH_UPSTREAM=http://127.0.0.1:8080 BENCH_TOKEN=… deno serve --allow-net --allow-env \
 *   bench/servers/bare_proxy.ts
 * ```
 *
 * @module
 */

/** Options of {@linkcode createBareProxy}. */
export interface BareProxyOptions {
  /** The API root requests go to. */
  upstream: string;
  /** The fixed bearer token. */
  token: string;
  /** Transport; default the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * Creates the bare proxy handler.
 *
 * @param options Upstream, token and transport.
 * @returns A Web-standard fetch handler.
 */
export function createBareProxy(
  options: BareProxyOptions,
): (request: Request) => Promise<Response> {
  const transport = options.fetch ?? fetch;
  const upstream = options.upstream.replace(/\/$/, "");
  const authorization = `Bearer ${options.token}`;
  return async (request) => {
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    // Skip "/aqc/{office}".
    const rest = url.indexOf("/", pathStart + 5);
    const headers = new Headers(request.headers);
    headers.delete("host");
    headers.set("authorization", authorization);
    const response = await transport(upstream + url.slice(rest), {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
    });
    // Deno's fetch decodes gzip/br but keeps Content-Encoding and the compressed
    // Content-Length; passed on as they are, the caller would get plain bytes labelled
    // compressed (a "brotli error" in its fetch). The least a working proxy must do.
    const answer = new Headers(response.headers);
    answer.delete("content-encoding");
    answer.delete("content-length");
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers: answer,
    });
  };
}

const upstream = Deno.env.get("BENCH_UPSTREAM");
const token = Deno.env.get("BENCH_TOKEN");

/** The `deno serve` handler (answers 500 when not configured). */
export default {
  fetch: upstream && token
    ? createBareProxy({ upstream, token })
    : () => new Response("BENCH_UPSTREAM and BENCH_TOKEN are required", { status: 500 }),
} satisfies Deno.ServeDefaultExport;
