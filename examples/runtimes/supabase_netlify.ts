/**
 * Supabase and Netlify Edge Functions (both Deno): the same handler.
 *
 * - Netlify: save as `netlify/edge-functions/flights.ts`; the default export and `config`
 *   below are all Netlify needs.
 * - Supabase: in `supabase/functions/flights/index.ts`, import this handler and call
 *   `Deno.serve(handler)`; set the secrets with `supabase secrets set AQC_CLIENT_ID=…`.
 *
 * Proven by tests/runtimes/snippets_test.ts (served with `Deno.serve`).
 *
 * @module
 */
import { createAqcFetch, isAqcError, TokenManager } from "@aqc-edge/aqc-edge";

const tokens = new TokenManager({
  credentials: {
    apiUrl: Deno.env.get("AQC_API_URL") ?? "https://test.travel.api.amadeus.com",
    clientId: Deno.env.get("AQC_CLIENT_ID") ?? "",
    clientSecret: Deno.env.get("AQC_CLIENT_SECRET") ?? "",
  },
});
const aqc = createAqcFetch({ tokens });

/** `GET /flights?office=NCE1A0955&from=NCE&to=JFK&date=2026-12-20` */
export default async function handler(request: Request): Promise<Response> {
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

/** Netlify: the route of this edge function. */
export const config = { path: "/flights" };
