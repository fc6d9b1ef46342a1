/**
 * Cloudflare Workers: the library built ONCE at module scope (constructors do no random,
 * timer or I/O work, which workerd refuses there), tokens shared through Upstash, background
 * refreshes handed to `ctx.waitUntil`. Bundle with
 * `deno bundle --platform browser --external cloudflare:workers`; proven by the workerd row of
 * tests/runtimes/runtimes_test.ts (fixture tests/fixtures/workerd/library).
 *
 * @module
 */
// @ts-types="./cloudflare_workers.d.ts"
import { env } from "cloudflare:workers";
import type { ExecutionContext } from "./cloudflare_workers.d.ts";
import { Redis } from "@upstash/redis/cloudflare";
import { createAqcFetch, isAqcError, TokenManager, UpstashTokenStore } from "@aqc-edge/aqc-edge";

const vars = env as Record<string, string>;
const tokens = new TokenManager({
  credentials: {
    apiUrl: vars.AQC_API_URL,
    clientId: vars.AQC_CLIENT_ID,
    clientSecret: vars.AQC_CLIENT_SECRET,
  },
  store: new UpstashTokenStore({
    redis: new Redis({
      url: vars.UPSTASH_REDIS_REST_URL,
      token: vars.UPSTASH_REDIS_REST_TOKEN,
      enableTelemetry: false,
    }),
    encryptionKey: vars.AQC_TOKEN_KEY,
  }),
});
const aqc = createAqcFetch({ tokens });

export default {
  async fetch(request: Request, _env: unknown, ctx: ExecutionContext): Promise<Response> {
    const q = new URL(request.url).searchParams;
    const search = new URLSearchParams({
      originLocationCode: q.get("from") ?? "",
      destinationLocationCode: q.get("to") ?? "",
      departureDate: q.get("date") ?? "",
      adults: "1",
    });
    try {
      return await aqc(q.get("office") ?? "", `/v2/shopping/flight-offers?${search}`, {
        waitUntil: (promise) => ctx.waitUntil(promise),
      });
    } catch (error) {
      if (isAqcError(error)) return Response.json({ code: error.code }, { status: 502 });
      throw error;
    }
  },
};
