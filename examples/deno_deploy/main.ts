/**
 * An OTA edge function on Deno Deploy that calls AQC directly with the aqc-edge library:
 * `GET /search?office=NCE1A0955&from=NCE&to=JFK&date=2026-12-20&adults=1`.
 *
 * Every isolate shares tokens through Upstash (when configured), so a cold isolate costs
 * one Redis read instead of a token request, and a warm one costs nothing.
 *
 * Run it: `deno serve --allow-net --allow-env examples/deno_deploy/main.ts`
 * with AQC_API_URL, AQC_CLIENT_ID, AQC_CLIENT_SECRET (and optionally
 * UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, AQC_TOKEN_KEY) set.
 *
 * @module
 */
import { createAqcFetch } from "@aqc-edge/aqc-edge";
import { createTokenManager, loadConfig, problemFromError } from "@aqc-edge/aqc-edge/gateway";

/** Builds the edge function's handler from an environment record. */
export function createSearchHandler(
  env: Record<string, string | undefined>,
): (request: Request) => Promise<Response> {
  // The library reads the same variables as the gateway; no gateway keys needed here.
  const config = loadConfig(env, { requireGatewayKeys: false });
  // Upstash (sealed, short timeout, no retries) when UPSTASH_* is set, else in-memory.
  const tokens = createTokenManager(config);
  const aqc = createAqcFetch({ tokens, timeoutMs: config.upstreamTimeoutMs });

  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/search") return new Response("Not found", { status: 404 });
    const q = url.searchParams;
    const query = new URLSearchParams({
      originLocationCode: q.get("from") ?? "",
      destinationLocationCode: q.get("to") ?? "",
      departureDate: q.get("date") ?? "",
      adults: q.get("adults") ?? "1",
    });
    try {
      const response = await aqc(q.get("office") ?? "", `/v2/shopping/flight-offers?${query}`, {
        signal: request.signal,
      });
      return new Response(response.body, {
        status: response.status,
        headers: { "content-type": response.headers.get("content-type") ?? "application/json" },
      });
    } catch (error) {
      // The gateway's own answers: credentials_rejected 502, upstream_timeout 504, a 503 with
      // Retry-After, … and no secret (anything but an AqcError is a bare 500).
      return problemFromError(error);
    }
  };
}

/** The `deno serve` / Deno Deploy handler. */
export default {
  fetch: import.meta.main || Deno.env.get("DENO_DEPLOYMENT_ID")
    ? createSearchHandler(Deno.env.toObject())
    : () => new Response("Not configured", { status: 500 }),
} satisfies Deno.ServeDefaultExport;
