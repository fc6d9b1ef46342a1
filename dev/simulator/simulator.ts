/**
 * {@linkcode createSimulator}: one in-memory AQC (token endpoint, flight APIs, echo API)
 * behind a Web-standard fetch handler, with a programmatic control API.
 *
 * @module
 */

import { handleApiRequest } from "./apis.ts";
import { CONTROL_PREFIX, handleControl } from "./control.ts";
import { Counters, type SimulatorCounters } from "./counters.ts";
import { ConnectionResetError } from "./faults.ts";
import { applyKnobs, DEFAULT_KNOBS, type KnobsUpdate, type SimulatorKnobs } from "./knobs.ts";
import type { SimRequest, SimulatorClient, SimulatorState } from "./state.ts";
import { handleTokenRequest, TOKEN_PATH } from "./token_endpoint.ts";
import { type IssuedToken, TokenStore } from "./token_store.ts";

/** Client id of the client every simulator accepts unless `clients` is given. */
export const DEFAULT_CLIENT_ID = "aqc-test-client";
/** Secret of {@linkcode DEFAULT_CLIENT_ID}; tests assert it never leaks into logs. */
export const DEFAULT_CLIENT_SECRET = "aqc-test-secret-do-not-log";
/** A valid office id, for tests that need one. */
export const DEFAULT_OFFICE_ID = "NCE1A0955";

// Only used to resolve a path-only URL given to an in-process `fetch`.
const IN_PROCESS_ORIGIN = "http://aqc-simulator.invalid";

/** Options of {@linkcode createSimulator}. */
export interface SimulatorOptions {
  /**
   * Accepted clients by client id. Replaces the default
   * `{ "aqc-test-client": { secret: "aqc-test-secret-do-not-log" } }` (any office).
   */
  clients?: Record<string, SimulatorClient>;
  /** Clock for token issue and expiry, epoch ms; default `Date.now`. Latency uses real time. */
  now?: () => number;
  /** Knobs at creation, and what {@linkcode Simulator.reset} returns to. */
  knobs?: KnobsUpdate;
  /** How many token and API requests the logs keep; default 100. */
  logSize?: number;
}

/**
 * A fetch function that is both a `typeof fetch` replacement and a `Deno.serve` handler.
 * A path-only URL is resolved against a placeholder origin.
 */
export type SimulatorFetch = (
  input: Request | URL | string,
  init?: RequestInit | Deno.ServeHandlerInfo,
) => Promise<Response>;

/** An AQC simulator: the handler plus the control API tests use. */
export interface Simulator {
  /**
   * Answers a request in process. Inject it as `fetch` (no network at all) or pass it to
   * `Deno.serve`. A dropped connection rejects with {@linkcode ConnectionResetError} (a
   * `TypeError`, like the real `fetch`); an aborted request rejects with the abort reason.
   */
  readonly fetch: SimulatorFetch;
  /**
   * Like `fetch`, with the give-up signal passed explicitly; `request.signal` is never
   * read (`Deno.serve` warns when a handler reads it).
   *
   * @param request The request; its body is consumed.
   * @param options `signal`: aborts a pending answer (client gone).
   */
  handle(request: Request, options?: { signal?: AbortSignal }): Promise<Response>;
  /**
   * Changes some knobs; absent keys keep their value, `null`/`undefined` restore defaults.
   *
   * @param update The change.
   * @returns The knobs now in effect.
   * @throws {TypeError} When a value is invalid.
   */
  configure(update: KnobsUpdate): SimulatorKnobs;
  /** The knobs in effect (a copy). */
  readonly knobs: SimulatorKnobs;
  /**
   * Back to the creation state: knobs, counters, logs, tokens and orders. Pending
   * requests are not touched (see {@linkcode Simulator.releasePending}).
   */
  reset(): void;
  /**
   * Revokes a token: the APIs answer 401 code 38193 for it.
   *
   * @param accessToken The token.
   * @returns Whether it was known and not yet revoked.
   */
  revoke(accessToken: string): boolean;
  /**
   * Revokes every issued token.
   *
   * @returns How many tokens were revoked.
   */
  revokeAll(): number;
  /**
   * Expires a token now whatever the clock says: the APIs answer 401 code 38192.
   *
   * @param accessToken The token.
   * @returns Whether it was known.
   */
  expire(accessToken: string): boolean;
  /** A snapshot of the counters and logs (a fresh deep copy on every read). */
  readonly counters: SimulatorCounters;
  /** Copies of the issued tokens, oldest first. */
  readonly issuedTokens: IssuedToken[];
  /**
   * The most recently issued token, optionally for one office.
   *
   * @param officeId Only tokens of this office.
   * @returns A copy, or `undefined`.
   */
  latestToken(officeId?: string): IssuedToken | undefined;
  /**
   * Ends every hung request and pending latency delay by dropping its connection. The
   * simulator stays usable. `serveSimulator`'s `close()` calls it.
   */
  releasePending(): void;
  /**
   * The simulator clock.
   *
   * @returns Epoch ms.
   */
  now(): number;
}

/**
 * Creates an AQC simulator. Nothing listens: use `fetch` in process, or
 * `serveSimulator` for real HTTP.
 *
 * @example In process, no network
 * ```ts
 * import { createSimulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from "./mod.ts";
 *
 * const sim = createSimulator({ knobs: { tokenLifetimeSeconds: 60 } });
 * const res = await sim.fetch("/v1/security/oauth2/token", {
 *   method: "POST",
 *   body: new URLSearchParams({
 *     grant_type: "client_credentials",
 *     client_id: DEFAULT_CLIENT_ID,
 *     client_secret: DEFAULT_CLIENT_SECRET,
 *     guest_office_id: "NCE1A0955",
 *   }),
 * });
 * console.log((await res.json()).expires_in); // 60
 * ```
 *
 * @param options Clients, clock, initial knobs, log size.
 * @returns The simulator.
 */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const initialKnobs: KnobsUpdate = { ...options.knobs };
  const state: SimulatorState = {
    now: options.now ?? Date.now,
    clients: options.clients ?? { [DEFAULT_CLIENT_ID]: { secret: DEFAULT_CLIENT_SECRET } },
    knobs: applyKnobs(DEFAULT_KNOBS, initialKnobs),
    initialKnobs,
    tokens: new TokenStore(),
    counters: new Counters(options.logSize ?? 100),
    orders: new Map(),
    release: new AbortController(),
  };

  const handle = async (
    request: Request,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<Response> => {
    if (signal?.aborted) throw signal.reason;
    // Taken before the body is read, so a release during the read still ends the request.
    const giveUp = signal === undefined
      ? state.release.signal
      : AbortSignal.any([signal, state.release.signal]);
    const req: SimRequest = {
      method: request.method.toUpperCase(),
      url: new URL(request.url),
      headers: request.headers,
      body: new Uint8Array(await request.arrayBuffer()),
      signal: giveUp,
    };
    const path = req.url.pathname;
    if (path.startsWith(CONTROL_PREFIX)) return handleControl(req, simulator);
    if (path === TOKEN_PATH) return await handleTokenRequest(req, state);
    return await handleApiRequest(req, state);
  };

  const simulator: Simulator = {
    fetch: (input, init) => {
      // Deno.serve passes its ServeHandlerInfo where fetch takes a RequestInit.
      const requestInit = init !== undefined && "remoteAddr" in init ? undefined : init;
      const target = typeof input === "string" && input.startsWith("/")
        ? IN_PROCESS_ORIGIN + input
        : input;
      let request: Request;
      try {
        request = target instanceof Request && requestInit === undefined
          ? target
          : new Request(target, requestInit);
      } catch (error) {
        return Promise.reject(error);
      }
      return handle(request, { signal: request.signal });
    },
    handle,
    configure(update) {
      state.knobs = applyKnobs(state.knobs, update);
      return simulator.knobs;
    },
    get knobs() {
      const k = state.knobs;
      return {
        ...k,
        tokenFailure: k.tokenFailure === null ? null : { ...k.tokenFailure },
        apiFailure: k.apiFailure === null ? null : { ...k.apiFailure },
      };
    },
    reset() {
      state.knobs = applyKnobs(DEFAULT_KNOBS, initialKnobs);
      state.counters.reset();
      state.tokens.clear();
      state.orders.clear();
    },
    revoke: (accessToken) => state.tokens.revoke(accessToken),
    revokeAll: () => state.tokens.revokeAll(),
    expire: (accessToken) => state.tokens.expire(accessToken, state.now()),
    get counters() {
      return state.counters.snapshot();
    },
    get issuedTokens() {
      return state.tokens.list();
    },
    latestToken(officeId) {
      const tokens = state.tokens.list();
      for (let i = tokens.length - 1; i >= 0; i--) {
        if (officeId === undefined || tokens[i].officeId === officeId) return tokens[i];
      }
      return undefined;
    },
    releasePending() {
      state.release.abort(new ConnectionResetError("The simulator released pending requests"));
      state.release = new AbortController();
    },
    now: () => state.now(),
  };
  return simulator;
}
