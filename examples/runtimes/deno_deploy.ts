/**
 * Deno Deploy: an OTA function that calls AQC with the aqc-edge library.
 * `GET /flights?office=NCE1A0955&from=NCE&to=JFK&date=2026-12-20`
 *
 * Run: `deno serve --allow-net --allow-env=AQC_API_URL,AQC_CLIENT_ID,AQC_CLIENT_SECRET
 * examples/runtimes/deno_deploy.ts` (proven by tests/runtimes/snippets_test.ts).
 *
 * @module
 */
import { createAqcFetch, isAqcError, TokenManager } from "@aqc-edge/aqc-edge";

// Module scope: one manager per isolate, so warm requests reuse its token (no I/O here).
const tokens = new TokenManager({
  credentials: {
    apiUrl: Deno.env.get("AQC_API_URL") ?? "https://test.travel.api.amadeus.com",
    clientId: Deno.env.get("AQC_CLIENT_ID") ?? "",
    clientSecret: Deno.env.get("AQC_CLIENT_SECRET") ?? "",
  },
});
const aqc = createAqcFetch({ tokens });

export default {
  async fetch(request: Request): Promise<Response> {
    const q = new URL(request.url).searchParams;
    const search = new URLSearchParams({
      originLocationCode: q.get("from") ?? "",
      destinationLocationCode: q.get("to") ?? "",
      departureDate: q.get("date") ?? "",
      adults: "1",
    });
    try {
      return await aqc(q.get("office") ?? "", `/v2/shopping/flight-offers?${search}`);
    } catch (error) {
      if (isAqcError(error)) return Response.json({ code: error.code }, { status: 502 });
      throw error;
    }
  },
} satisfies Deno.ServeDefaultExport;
