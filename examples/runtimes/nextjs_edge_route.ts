/**
 * Next.js route handler on Vercel's Edge Runtime: save as `app/api/flights/route.ts`.
 * `GET /api/flights?office=NCE1A0955&from=NCE&to=JFK&date=2026-12-20`
 *
 * The Edge Runtime has no Node APIs and no `eval`; Next.js provides `process.env`. Proven by
 * tests/runtimes/snippets_test.ts in `edge-runtime`'s sandbox.
 *
 * @module
 */
import { createAqcFetch, isAqcError, TokenManager } from "@aqc-edge/aqc-edge";

/** Next.js: run this route on the Edge Runtime. */
export const runtime = "edge";

const tokens = new TokenManager({
  credentials: {
    apiUrl: process.env.AQC_API_URL ?? "https://test.travel.api.amadeus.com",
    clientId: process.env.AQC_CLIENT_ID ?? "",
    clientSecret: process.env.AQC_CLIENT_SECRET ?? "",
  },
});
const aqc = createAqcFetch({ tokens });

/** The route's GET handler. */
export async function GET(request: Request): Promise<Response> {
  const q = new URL(request.url).searchParams;
  const search = new URLSearchParams({
    originLocationCode: q.get("from") ?? "",
    destinationLocationCode: q.get("to") ?? "",
    departureDate: q.get("date") ?? "",
    adults: "1",
  });
  try {
    return await aqc(q.get("office") ?? "", `/v2/shopping/flight-offers?${search}`, {
      signal: request.signal,
    });
  } catch (error) {
    if (isAqcError(error)) return Response.json({ code: error.code }, { status: 502 });
    throw error;
  }
}
