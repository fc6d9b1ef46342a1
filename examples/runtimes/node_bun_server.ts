/**
 * A Node (≥ 20) or Bun server function: one Web-standard handler, served by
 * `@hono/node-server` on Node and by `Bun.serve` on Bun. Bundle it with
 * `deno bundle --platform deno -o server.js examples/runtimes/node_bun_server.ts`, then
 * `node server.js` or `bun server.js` (proven by tests/runtimes/snippets_test.ts).
 *
 * @module
 */
import process from "node:process";
import { serve } from "@hono/node-server";
import { createAqcFetch, isAqcError, TokenManager } from "@aqc-edge/aqc-edge";

const tokens = new TokenManager({
  credentials: {
    apiUrl: process.env.AQC_API_URL ?? "https://test.travel.api.amadeus.com",
    clientId: process.env.AQC_CLIENT_ID ?? "",
    clientSecret: process.env.AQC_CLIENT_SECRET ?? "",
  },
});
const aqc = createAqcFetch({ tokens });

/** `GET /flights?office=NCE1A0955&from=NCE&to=JFK&date=2026-12-20` */
export async function handler(request: Request): Promise<Response> {
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

const hostname = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);
const bun = (globalThis as { Bun?: { serve(o: object): { port: number } } }).Bun;
if (bun !== undefined) {
  const server = bun.serve({ hostname, port, fetch: handler });
  console.log(`Listening on http://${hostname}:${server.port}`);
} else {
  serve({ fetch: handler, hostname, port }, (info) => {
    console.log(`Listening on http://${hostname}:${info.port}`);
  });
}
