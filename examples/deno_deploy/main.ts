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
import { Redis } from "@upstash/redis";
import { AqcError, createAqcFetch, TokenManager, UpstashTokenStore } from "@aqc-edge/aqc-edge";
import { loadConfig } from "@aqc-edge/aqc-edge/gateway";

/** Builds the edge function's handler from an environment record. */
export function createSearchHandler(
  env: Record<string, string | undefined>,
): (request: Request) => Promise<Response> {
  // The library reads the same variables as the gateway; no gateway keys needed here.
  const config = loadConfig(env, { requireGatewayKeys: false });
  const store = config.upstash && config.tokenKey
    ? new UpstashTokenStore({
      redis: new Redis({
        url: config.upstash.url,
        token: config.upstash.token,
        retry: false,
        enableTelemetry: false,
        signal: () => AbortSignal.timeout(500),
      }),
      encryptionKey: config.tokenKey,
    })
    : undefined;
  const tokens = new TokenManager({ credentials: config.credentials, ...(store ? { store } : {}) });
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
      if (!(error instanceof AqcError)) throw error;
      // AqcError messages never hold a secret or a token: safe to return.
      const status = error.code === "office_invalid" ? 400 : 503;
      return Response.json({ code: error.code, message: error.message }, { status });
    }
  };
}

/** The `deno serve` / Deno Deploy handler. */
export default {
  fetch: import.meta.main || Deno.env.get("DENO_DEPLOYMENT_ID")
    ? createSearchHandler(Deno.env.toObject())
    : () => new Response("Not configured", { status: 500 }),
} satisfies Deno.ServeDefaultExport;
