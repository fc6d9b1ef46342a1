/**
 * Example consumer Worker: searches flights through aqc-edge over a service binding.
 *
 * - `GET /search?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1`
 *   → `env.AQC.fetch()` → aqc-edge → AQC `GET /v2/shopping/flight-offers`, answered as is
 *   (offers, or AQC's own error JSON, or the gateway's problem+json).
 * - `GET /health` → `env.AQC.health()`, an RPC call to the gateway.
 *
 * The Worker holds a gateway key (`AQC_GATEWAY_KEY`), never an AQC credential or token: the
 * gateway authenticates it, checks that the key may use the office, and adds the AQC token.
 *
 * @example Local run next to the gateway (from the aqc-edge project root)
 * ```sh
 * wrangler dev -c examples/consumer_worker/wrangler.toml -c wrangler.toml
 * curl 'http://localhost:8787/search?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1'
 * ```
 *
 * @module
 */

/** What the consumer sees of aqc-edge's `AqcGateway` entrypoint (see aqc-edge's src/worker.ts). */
export interface AqcGatewayBinding {
  /** The gateway over the binding; the URL's host is ignored. */
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
  /** RPC: readiness of the gateway and its token store. */
  health(): Promise<Record<string, unknown>>;
}

/** Bindings of the consumer. */
export interface Env {
  /** `[[services]] binding = "AQC"`, entrypoint `AqcGateway`. */
  AQC: AqcGatewayBinding;
  /** A gateway key (`wrangler secret put AQC_GATEWAY_KEY`). */
  AQC_GATEWAY_KEY?: string;
  /** The office to search for; default `NCE1A0955`. */
  AQC_OFFICE?: string;
}

/** The flight-offers query parameters passed on; anything else is dropped. */
const SEARCH_PARAMS = [
  "originLocationCode",
  "destinationLocationCode",
  "departureDate",
  "returnDate",
  "adults",
  "children",
  "infants",
  "travelClass",
  "nonStop",
  "currencyCode",
  "maxPrice",
  "max",
];

function json(body: unknown, status: number): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

async function search(url: URL, env: Env): Promise<Response> {
  if (env.AQC_GATEWAY_KEY === undefined || env.AQC_GATEWAY_KEY === "") {
    return json({ error: "AQC_GATEWAY_KEY is not set" }, 500);
  }
  const query = new URLSearchParams();
  for (const name of SEARCH_PARAMS) {
    const value = url.searchParams.get(name);
    if (value !== null) query.set(name, value);
  }
  const office = encodeURIComponent(env.AQC_OFFICE ?? "NCE1A0955");
  // The host is a placeholder: a service binding delivers to the gateway whatever it is.
  const target = `https://aqc/aqc/${office}/v2/shopping/flight-offers?${query}`;
  const response = await env.AQC.fetch(new Request(target), {
    headers: { authorization: `Bearer ${env.AQC_GATEWAY_KEY}`, accept: "application/json" },
  });
  // AQC's answer (or the gateway's problem+json) goes back unchanged, status included.
  return new Response(response.body, response);
}

/** The consumer Worker. */
export default {
  /**
   * Routes `GET /search` and `GET /health`.
   *
   * @param request The request.
   * @param env The bindings.
   * @returns The answer.
   */
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== "GET") return json({ error: "Use GET" }, 405);
    if (url.pathname === "/search") return await search(url, env);
    if (url.pathname === "/health") return json(await env.AQC.health(), 200);
    return json({ error: "Try GET /search?originLocationCode=NCE&… or GET /health" }, 404);
  },
};
