/**
 * The contenders the scenarios compare, built the way each is used in production:
 *
 * - aqc-edge: a `TokenManager` per isolate with its own `@upstash/redis` client and
 *   `UpstashTokenStore` (L2 shared through the bridge), and `createAqcFetch`.
 * - per-isolate cache: the same `TokenManager` with a `MemoryTokenStore` (no L2).
 * - the official Amadeus Node SDK (`npm:amadeus`), one client per isolate.
 *
 * @module
 */
import http from "node:http";
// deno-lint-ignore no-import-prefix -- a benchmark contender, not a dependency of aqc-edge
import Amadeus from "npm:amadeus@11.0.0";
import { Redis } from "@upstash/redis";
import {
  type AqcFetch,
  createAqcFetch,
  MemoryTokenStore,
  type TokenEvent,
  TokenManager,
  type TokenManagerOptions,
  UpstashTokenStore,
} from "../../src/mod.ts";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from "../../dev/simulator/mod.ts";

/** The flight search every scenario sends. */
export const SEARCH_PATH = "/v2/shopping/flight-offers";
/** Its query, as the SDK takes it. */
export const SEARCH_PARAMS: Readonly<Record<string, string>> = {
  originLocationCode: "NCE",
  destinationLocationCode: "JFK",
  departureDate: "2026-12-20",
  adults: "1",
};
/** Path and query, as aqc-edge takes it. */
export const SEARCH = `${SEARCH_PATH}?${new URLSearchParams(SEARCH_PARAMS)}`;

/** Where the local Upstash listens. */
export interface UpstashEndpoint {
  /** REST URL. */
  url: string;
  /** Bearer token. */
  token: string;
}

/** Token timing overrides (the steady-state scenario scales them to a short lifetime). */
export type TokenTiming = Pick<
  TokenManagerOptions,
  "refreshAheadSeconds" | "expirySkewSeconds" | "refreshJitterSeconds"
>;

/** One emulated isolate of aqc-edge or of the per-isolate cache. */
export interface EdgeIsolate {
  /** Its token manager. */
  tokens: TokenManager;
  /** Its authenticated fetch. */
  aqc: AqcFetch;
}

function credentials(apiUrl: string) {
  return { apiUrl, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET };
}

/**
 * An aqc-edge isolate: its own Redis client (as `createTokenManager` builds it: no retries,
 * 500 ms timeout) and `UpstashTokenStore`.
 *
 * @param apiUrl The simulator.
 * @param upstash The shared L2.
 * @param encryptionKey `AQC_TOKEN_KEY`, the same for every isolate.
 * @param timing Token timing overrides.
 * @param onEvent Token events.
 * @returns The isolate.
 */
export function edgeIsolate(
  apiUrl: string,
  upstash: UpstashEndpoint,
  encryptionKey: string,
  timing: TokenTiming = {},
  onEvent?: (event: TokenEvent) => void,
): EdgeIsolate {
  const redis = new Redis({
    url: upstash.url,
    token: upstash.token,
    retry: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(500),
  });
  const tokens = new TokenManager({
    credentials: credentials(apiUrl),
    store: new UpstashTokenStore({ redis, encryptionKey }),
    storeTimeoutMs: 500,
    ...timing,
    ...(onEvent ? { onEvent } : {}),
  });
  return { tokens, aqc: createAqcFetch({ tokens }) };
}

/**
 * A per-isolate cache: aqc-edge without L2 (a `MemoryTokenStore` per isolate).
 *
 * @param apiUrl The simulator.
 * @param timing Token timing overrides.
 * @returns The isolate.
 */
export function perIsolate(apiUrl: string, timing: TokenTiming = {}): EdgeIsolate {
  const tokens = new TokenManager({
    credentials: credentials(apiUrl),
    store: new MemoryTokenStore(),
    ...timing,
  });
  return { tokens, aqc: createAqcFetch({ tokens }) };
}

/** The parts of the SDK's response the scenarios read. */
export interface SdkResponse {
  /** HTTP status. */
  statusCode: number;
  /** Parsed body (`data`), when JSON. */
  data: unknown;
}

/** The part of an `Amadeus` client the scenarios use. */
interface AmadeusClient {
  client: { get(path: string, params: Record<string, string>): Promise<SdkResponse> };
}

type AmadeusConstructor = new (options: Record<string, unknown>) => AmadeusClient;

/** One emulated isolate of the official SDK, with what its transport saw. */
export interface SdkIsolate {
  /** Sends the flight search through the SDK. */
  search(): Promise<SdkResponse>;
  /** `performance.now()` when each API (non-token) response's head arrived. */
  readonly apiFirstBytes: number[];
  /** Token requests this client sent. */
  readonly tokenRequests: number;
}

const TOKEN_PATH = "/v1/security/oauth2/token";

/**
 * An `Amadeus` client pointed at the simulator. The SDK ignores `ssl: false`, so it gets
 * `host`, `port` and an `http` object whose `request` forces `protocol: "http:"`. AQC
 * needs `guest_office_id` in the token request, which the SDK does not send: the shim
 * appends it to the token request body, as an AQC user of the SDK would have to.
 *
 * @param apiUrl The simulator.
 * @param officeId The office the tokens are for.
 * @returns The isolate.
 */
export function sdkIsolate(apiUrl: string, officeId: string): SdkIsolate {
  const url = new URL(apiUrl);
  const apiFirstBytes: number[] = [];
  let tokenRequests = 0;
  const shim = {
    request(options: http.RequestOptions): http.ClientRequest {
      const request = http.request({ ...options, protocol: "http:" });
      if (options.path === TOKEN_PATH) {
        tokenRequests++;
        const write = request.write.bind(request) as (chunk: string) => boolean;
        const patched = (chunk: string) =>
          write(`${chunk}&guest_office_id=${encodeURIComponent(officeId)}`);
        (request as unknown as { write: typeof patched }).write = patched;
      } else {
        request.once("response", () => apiFirstBytes.push(performance.now()));
      }
      return request;
    },
  };
  const client = new (Amadeus as unknown as AmadeusConstructor)({
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
    host: url.hostname,
    port: Number(url.port),
    http: shim,
    logLevel: "silent",
  });
  return {
    search: () => client.client.get(SEARCH_PATH, { ...SEARCH_PARAMS }),
    apiFirstBytes,
    get tokenRequests() {
      return tokenRequests;
    },
  };
}
