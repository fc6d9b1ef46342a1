/**
 * Every path but the token endpoint and `/__sim/`: bearer-token checks the way AQC does
 * them, the flight APIs, the echo API and 404s, with API latency and fault knobs.
 *
 * @module
 */

import { compressed } from "./compression.ts";
import type { ApiLogEntry } from "./counters.ts";
import { resourceNotFound, tokenRejected } from "./errors.ts";
import { ConnectionResetError, failureResponse, sleep, takeFailure } from "./faults.ts";
import {
  createOrder,
  priceOffers,
  readOrDeleteOrder,
  searchOffersGet,
  searchOffersPost,
} from "./flight_apis.ts";
import { headersToObject, type SimRequest, type SimulatorState } from "./state.ts";
import type { IssuedToken } from "./token_store.ts";

/** Any method on any path under this prefix answers with what arrived. */
export const ECHO_PREFIX = "/v1/echo/";

/** What the echo API answers. */
export interface EchoBody {
  /** HTTP method. */
  method: string;
  /** Full request URL as the simulator saw it. */
  url: string;
  /** Path without the query. */
  path: string;
  /** Query parameters; a repeated name gives an array in order. */
  query: Record<string, string | string[]>;
  /** The raw query string including `?`, or `""`. */
  search: string;
  /** All request headers, lower-case names, duplicates joined with `", "`. */
  headers: Record<string, string>;
  /** The body decoded as UTF-8. */
  body: string;
  /** The exact body bytes, base64. */
  bodyBase64: string;
  /** Office of the token that authorised the request. */
  office: string;
  /** Client that obtained that token. */
  clientId: string;
}

/**
 * Answers one API request, counting and logging it and applying the API knobs.
 *
 * @param req The request.
 * @param state The simulator state.
 * @returns The answer.
 * @throws {ConnectionResetError} When the connection must be dropped.
 */
export async function handleApiRequest(
  req: SimRequest,
  state: SimulatorState,
): Promise<Response> {
  const counters = state.counters;
  const bearer = parseBearer(req.headers.get("authorization"));
  const officeId = bearer === undefined ? undefined : state.tokens.get(bearer)?.officeId;
  const entry: ApiLogEntry = {
    at: state.now(),
    method: req.method,
    url: req.url.href,
    path: req.url.pathname,
    headers: headersToObject(req.headers),
    body: new TextDecoder().decode(req.body),
    ...(bearer === undefined ? {} : { accessToken: bearer }),
    ...(officeId === undefined ? {} : { officeId }),
    outcome: "pending",
  };
  const values = counters.values;
  values.apiRequests++;
  if (bearer !== undefined) counters.bump(values.apiRequestsByToken, bearer);
  if (officeId !== undefined) counters.bump(values.apiRequestsByOffice, officeId);
  values.apiRequestsInFlight++;
  values.maxApiRequestsInFlight = Math.max(
    values.maxApiRequestsInFlight,
    values.apiRequestsInFlight,
  );
  counters.log(values.apiLog, entry);
  try {
    const plain = await answer(req, state, { bearer, officeId });
    const res = state.knobs.compression && req.method !== "HEAD"
      ? await compressed(plain, req.headers.get("accept-encoding"))
      : plain;
    entry.outcome = "answered";
    entry.status = res.status;
    // A reset may have replaced the counters while this request was pending.
    counters.bump(counters.values.apiRequestsByStatus, String(res.status));
    return res;
  } catch (error) {
    entry.outcome = error instanceof ConnectionResetError ? "reset" : "aborted";
    throw error;
  } finally {
    counters.values.apiRequestsInFlight--;
  }
}

async function answer(
  req: SimRequest,
  state: SimulatorState,
  { bearer, officeId }: { bearer?: string | undefined; officeId?: string | undefined },
): Promise<Response> {
  await sleep(state.knobs.apiLatencyMs, req.signal);

  const failure = state.knobs.apiFailure;
  const { applies, exhausted } = takeFailure(failure, officeId);
  if (exhausted) state.knobs.apiFailure = null;
  if (applies && failure !== null) {
    state.counters.values.apiFaultsInjected++;
    return await failureResponse(failure, req.signal);
  }

  if (bearer === undefined) return tokenRejected("missing_header");
  const check = state.tokens.check(bearer, state.now());
  if (!check.ok) return tokenRejected(check.reason);
  return route(req, state, check.token);
}

function route(req: SimRequest, state: SimulatorState, token: IssuedToken): Response {
  const path = req.url.pathname;
  const method = req.method;
  if (path.startsWith(ECHO_PREFIX)) return echo(req, token);
  if (path === "/v2/shopping/flight-offers") {
    if (method === "GET") return searchOffersGet(req);
    if (method === "POST") return searchOffersPost(req);
  }
  if (path === "/v1/shopping/flight-offers/pricing" && method === "POST") return priceOffers(req);
  if (path === "/v1/booking/flight-orders" && method === "POST") {
    return createOrder(req, { officeId: token.officeId, state });
  }
  const order = /^\/v1\/booking\/flight-orders\/([^/]+)$/.exec(path);
  if (order !== null && (method === "GET" || method === "DELETE")) {
    return readOrDeleteOrder(req, decodeURIComponent(order[1]), {
      officeId: token.officeId,
      state,
    });
  }
  return resourceNotFound();
}

function echo(req: SimRequest, token: IssuedToken): Response {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of req.url.searchParams) {
    const prior = query[name];
    query[name] = prior === undefined
      ? value
      : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  const body: EchoBody = {
    method: req.method,
    url: req.url.href,
    path: req.url.pathname,
    query,
    search: req.url.search,
    headers: headersToObject(req.headers),
    body: new TextDecoder().decode(req.body),
    bodyBase64: toBase64(req.body),
    office: token.officeId,
    clientId: token.clientId,
  };
  // Lets gateway tests check that upstream statuses pass through unchanged.
  // `ama-sim-echo-status` is the spelling that crosses the gateway's header allowlist.
  const wanted = Number(
    req.headers.get("x-sim-echo-status") ?? req.headers.get("ama-sim-echo-status") ?? 200,
  );
  const status = Number.isInteger(wanted) && wanted >= 200 && wanted <= 599 ? wanted : 200;
  const bodyless = status === 204 || status === 205 || status === 304;
  return new Response(bodyless ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "x-sim-echo": "1" },
  });
}

/**
 * The token of a well-formed `Authorization: Bearer <token>` header.
 *
 * @param header The header value, or `null`.
 * @returns The token, or `undefined` when the header is absent or malformed.
 */
export function parseBearer(header: string | null): string | undefined {
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header ?? "");
  return match === null ? undefined : match[1];
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunked because String.fromCharCode(...bytes) overflows the stack on large bodies.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
