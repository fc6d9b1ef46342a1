/**
 * Scenario 3, the hot path (`deno bench`), each group against its floor (`baseline: true`):
 *
 * - `getToken`: a warm `TokenManager.getToken` vs an async `Map` lookup;
 * - `aqcFetch`: `createAqcFetch` over a no-op transport vs a plain `fetch` call (same no-op
 *   transport) with a fixed `Authorization` header, for a GET and a POST with a JSON body;
 * - `gateway`, `gateway POST`: the gateway's `fetch` handler over a no-op transport vs the
 *   bare proxy's handler over the same transport (no sockets: only the code in between), for
 *   a GET and for a POST with a JSON body and its `Content-Length`.
 *
 * Run: `deno task bench:hot`.
 *
 * @module
 */
import { createAqcFetch, TokenManager } from "../src/mod.ts";
import { createGateway, generateGatewayKey, loadConfig } from "../src/gateway/mod.ts";
import {
  createSimulator,
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_OFFICE_ID,
} from "../dev/simulator/mod.ts";
import { createBareProxy } from "./servers/bare_proxy.ts";
import { SEARCH } from "./lib/contenders.ts";

const API_URL = "http://127.0.0.1:9";
const simulator = createSimulator();
const tokens = new TokenManager({
  credentials: {
    apiUrl: API_URL,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
  },
  fetch: simulator.fetch,
});
const token = await tokens.getToken(DEFAULT_OFFICE_ID);
const accessToken = token.accessToken;

const BODY = '{"data":{"type":"flight-offers-pricing","flightOffers":[]}}';
/** The no-op transport: an answer like AQC's, without any I/O. */
const noop = (_input: RequestInfo | URL, _init?: RequestInit): Promise<Response> =>
  Promise.resolve(
    new Response(BODY, {
      headers: { "content-type": "application/vnd.amadeus+json", "x-request-id": "abc" },
    }),
  );

/** The benchmarks, registered after a common warm-up (see the end of the file). */
const benches: {
  name: string;
  options: { group: string; baseline?: boolean };
  fn: () => Promise<void>;
}[] = [];
function bench(
  name: string,
  options: { group: string; baseline?: boolean },
  fn: () => Promise<void>,
): void {
  benches.push({ name, options, fn });
}

// getToken
const map = new Map([[DEFAULT_OFFICE_ID, token]]);
// deno-lint-ignore require-await
const lookup = async (officeId: string) => map.get(officeId);

bench("floor: async Map lookup", { group: "getToken", baseline: true }, async () => {
  await lookup(DEFAULT_OFFICE_ID);
});
bench("TokenManager.getToken (L1 hit)", { group: "getToken" }, async () => {
  await tokens.getToken(DEFAULT_OFFICE_ID);
});
bench("TokenManager.getToken (L1 hit, lower-case office)", { group: "getToken" }, async () => {
  await tokens.getToken("nce1a0955");
});

// aqcFetch
const aqc = createAqcFetch({ tokens, fetch: noop });
const url = `${API_URL}${SEARCH}`;
const authorization = `Bearer ${accessToken}`;

bench(
  "floor: fetch GET with a fixed header",
  { group: "aqcFetch GET", baseline: true },
  async () => {
    const response = await noop(url, { headers: { authorization } });
    await response.body?.cancel();
  },
);
bench("createAqcFetch GET", { group: "aqcFetch GET" }, async () => {
  const response = await aqc(DEFAULT_OFFICE_ID, SEARCH);
  await response.body?.cancel();
});

const PRICING = "/v1/shopping/flight-offers/pricing";
const pricingUrl = `${API_URL}${PRICING}`;
bench("floor: fetch POST JSON with a fixed header", {
  group: "aqcFetch POST",
  baseline: true,
}, async () => {
  const response = await noop(pricingUrl, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: BODY,
  });
  await response.body?.cancel();
});
bench("createAqcFetch POST JSON", { group: "aqcFetch POST" }, async () => {
  const response = await aqc(DEFAULT_OFFICE_ID, PRICING, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BODY,
  });
  await response.body?.cancel();
});

// Gateway handler
const { key, entry } = await generateGatewayKey("bench", ["*"]);
const gateway = createGateway(
  loadConfig({
    AQC_API_URL: API_URL,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([entry]),
  }),
  { tokens, fetch: noop, log: () => {} },
);
const bare = createBareProxy({ upstream: API_URL, token: accessToken, fetch: noop });
const GATEWAY_URL = `http://127.0.0.1:8000/aqc/${DEFAULT_OFFICE_ID}${SEARCH}`;
const callerHeaders = {
  authorization: `Bearer ${key}`,
  accept: "application/json",
  "user-agent": "bench",
};

bench("floor: bare proxy handler", { group: "gateway", baseline: true }, async () => {
  const response = await bare(new Request(GATEWAY_URL, { headers: callerHeaders }));
  await response.body?.cancel();
});
bench("gateway handler (createGateway)", { group: "gateway" }, async () => {
  // Like `deno serve`, pass the ServeHandlerInfo's `completed` (settled once the answer is
  // sent): without it the gateway takes its slower AbortSignal.any fallback, which
  // production never runs.
  const { promise: completed, resolve } = Promise.withResolvers<void>();
  const response = await gateway.fetch(
    new Request(GATEWAY_URL, { headers: callerHeaders }),
    { completed },
  );
  if (response.status !== 200) throw new Error(`gateway answered ${response.status}`);
  await response.body?.cancel();
  resolve();
});

const pricingHeaders = {
  ...callerHeaders,
  "content-type": "application/json",
  // As a server hands it over: a declared length, which the body limit trusts.
  "content-length": String(new TextEncoder().encode(BODY).length),
};
const GATEWAY_PRICING_URL = `http://127.0.0.1:8000/aqc/${DEFAULT_OFFICE_ID}${PRICING}`;
bench("floor: bare proxy handler, POST", { group: "gateway POST", baseline: true }, async () => {
  const response = await bare(
    new Request(GATEWAY_PRICING_URL, { method: "POST", headers: pricingHeaders, body: BODY }),
  );
  await response.body?.cancel();
});
bench("gateway handler (createGateway), POST", { group: "gateway POST" }, async () => {
  const { promise: completed, resolve } = Promise.withResolvers<void>();
  const response = await gateway.fetch(
    new Request(GATEWAY_PRICING_URL, { method: "POST", headers: pricingHeaders, body: BODY }),
    { completed },
  );
  if (response.status !== 200) throw new Error(`gateway answered ${response.status}`);
  await response.body?.cancel();
  resolve();
});

// Every benchmark runs a few thousand times before any is measured: otherwise the first
// one of the file pays for JIT compilation and the garbage of the set-up above.
for (let round = 0; round < 3; round++) {
  for (const { fn } of benches) for (let i = 0; i < 2_000; i++) await fn();
}
for (const { name, options, fn } of benches) Deno.bench(name, options, fn);
