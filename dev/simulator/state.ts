/**
 * The mutable state every route of one simulator shares, and the request shape the
 * routes receive.
 *
 * @module
 */

import type { Counters } from "./counters.ts";
import type { KnobsUpdate, SimulatorKnobs } from "./knobs.ts";
import type { TokenStore } from "./token_store.ts";

/** A client the token endpoint accepts. */
export interface SimulatorClient {
  /** The `client_secret` it must present. */
  secret: string;
  /** Offices it may get tokens for (`"*"` allows any); absent allows any. */
  offices?: string[];
  /** `username` of its token answers; default `<clientId>@example.com`. */
  username?: string;
  /** `application_name` of its token answers; default `aqc-edge-simulator`. */
  applicationName?: string;
}

/** A stored flight order, visible only to the office that created it. */
export interface StoredOrder {
  /** The office of the token that created it. */
  officeId: string;
  /** The `data` member of the order answer. */
  data: Record<string, unknown>;
}

/** Everything one simulator instance remembers. */
export interface SimulatorState {
  /** The injectable clock, epoch ms. */
  now: () => number;
  /** Accepted clients by client id. */
  clients: Record<string, SimulatorClient>;
  /** Knobs in effect. */
  knobs: SimulatorKnobs;
  /** The update a reset re-applies over the defaults. */
  initialKnobs: KnobsUpdate;
  /** Issued tokens. */
  tokens: TokenStore;
  /** Counters and logs. */
  counters: Counters;
  /** Flight orders by id. */
  orders: Map<string, StoredOrder>;
  /** Aborted (and replaced) to release every pending hang and delay. */
  release: AbortController;
}

/** A request as the routes see it: the body already read, one signal for giving up. */
export interface SimRequest {
  /** HTTP method, upper-case. */
  method: string;
  /** Parsed request URL. */
  url: URL;
  /** Request headers. */
  headers: Headers;
  /** The raw body (empty when none). */
  body: Uint8Array<ArrayBuffer>;
  /** Aborts when the client is gone or the simulator releases pending requests. */
  signal: AbortSignal;
}

/**
 * The request headers as a plain object with lower-case names; `Headers` already joins
 * duplicates with `", "`.
 *
 * @param headers The headers.
 * @returns A plain object.
 */
export function headersToObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    // Headers iterates every Set-Cookie separately; join them like the others.
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

/**
 * A fresh `Request` equal to what arrived, for code that wants the Fetch API shape.
 *
 * @param req The request as the routes see it.
 * @returns A new, unconsumed `Request`.
 */
export function toRequest(req: SimRequest): Request {
  const bodyless = req.method === "GET" || req.method === "HEAD";
  return new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body: bodyless ? null : req.body,
    signal: req.signal,
  });
}
