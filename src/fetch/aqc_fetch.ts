/**
 * `createAqcFetch`: an authenticated AQC `fetch` that survives expiry and 401s.
 *
 * @module
 */
import { DEFAULTS } from "../config/defaults.ts";
import { AqcError } from "../errors.ts";
import { anySignal } from "../signal.ts";
import type { TokenManager } from "../token/manager.ts";
import type { AccessToken, TokenSource } from "../token/types.ts";
import { aqcUrl } from "./aqc_path.ts";
import { type HeaderPairs, headerPairs, pairValue } from "./request_headers.ts";
import { SharedTimeouts } from "./timeouts.ts";
import { describedAnswer, isTokenRejection } from "./upstream_answer.ts";

/** How the token of a request was obtained, for `Server-Timing` and metrics. */
export interface TokenTiming {
  /** Where the token came from. */
  source: TokenSource;
  /** Milliseconds spent obtaining it. */
  durationMs: number;
  /** Whether this token was obtained for a replay after a 401. */
  replay: boolean;
}

/** `RequestInit` plus the per-call options of an {@linkcode AqcFetch}. */
export interface AqcRequestInit extends RequestInit {
  /** Keeps background token refreshes alive after the response (Workers' `ctx.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Called once per token obtained for this call. */
  onToken?: (timing: TokenTiming) => void;
  /**
   * Called with the bearer of each attempt, just before it is sent: for a proxy that must
   * keep it out of what it forwards (an upstream may echo it in a header).
   */
  onBearer?: (accessToken: string) => void;
  /** Overrides the fetch's upstream timeout for this call, in ms. */
  timeoutMs?: number;
  /**
   * Settles once the caller is done with the answer (e.g. Deno's
   * `ServeHandlerInfo.completed`). With `signal`, the call then links `signal` and its
   * timeout with two listeners dropped at that point, instead of an `AbortSignal.any`
   * (several microseconds per call).
   */
  settled?: Promise<unknown>;
}

/**
 * Calls AQC for an office: `(officeId, path, init?)`, where `path` is relative to the API
 * root, e.g. `/v2/shopping/flight-offers?originLocationCode=NCE&…`.
 */
export type AqcFetch = (
  officeId: string,
  path: string,
  init?: AqcRequestInit,
) => Promise<Response>;

/** Options of {@linkcode createAqcFetch}. */
export interface CreateAqcFetchOptions {
  /** The token manager holding the credentials (its `apiUrl` is the API root). */
  tokens: TokenManager;
  /** Transport for AQC calls; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Upstream timeout per attempt in ms (token time excluded); default 30,000. */
  timeoutMs?: number;
  /**
   * Whether the transport decodes `gzip`/`br` bodies but keeps their `Content-Encoding`
   * and `Content-Length`, as the `fetch` of Deno, Node and workerd does; those headers are
   * then dropped so that they describe the bytes handed over. Default: `true` for the
   * global `fetch`, `false` for a custom `fetch`.
   */
  transportDecodes?: boolean;
}

const BODYLESS = new Set(["GET", "HEAD"]);

/** An `Accept-Encoding` that makes Deno's `fetch` skip decoding (measured: case-insensitive). */
const IDENTITY_ONLY = /^\s*identity\s*$/i;

/**
 * The body to send, replayable after a 401 with the very same bytes. Strings and blobs are
 * immutable, so `fetch` sends them again as they are (with its usual default content
 * type); anything else (a stream, bytes the caller may change, form data) is buffered once,
 * keeping the content type `fetch` would have derived from it (e.g. a multipart boundary).
 */
async function replayableBody(
  url: string,
  method: string,
  body: BodyInit,
  headers: HeaderPairs,
): Promise<BodyInit> {
  if (typeof body === "string" || body instanceof Blob) return body;
  const buffered = new Request(url, { method, body, headers });
  const derived = buffered.headers.get("content-type");
  if (derived !== null && pairValue(headers, "content-type") === null) {
    headers.push(["content-type", derived]);
  }
  return await buffered.arrayBuffer();
}

/**
 * What a call tells a proxy besides its answer (internal: the gateway's `Server-Timing`
 * and header filtering). Given one, the call leaves the answer's headers as the transport
 * gave them and says whether its body was decoded, so the proxy's single header pass
 * drops the stale `Content-Encoding`/`Content-Length` (a second copy of the headers and a
 * second `Response` per compressed answer, otherwise).
 */
export interface CallReport {
  /** The bearer of the last attempt; `""` before any. */
  bearer: string;
  /** Whether the transport decoded gzip/br bodies (their labels are then stale). */
  decoded: boolean;
}

/** The engine of {@linkcode createAqcFetch}; `report` as in {@linkcode CallReport}. */
export type AqcCall = (
  officeId: string,
  path: string,
  init: AqcRequestInit | undefined,
  report: CallReport | undefined,
) => Promise<Response>;

/**
 * The engine behind {@linkcode createAqcFetch}, for the gateway (not exported by any entry).
 *
 * @param options As for {@linkcode createAqcFetch}.
 * @returns The call function.
 */
export function createAqcCall(options: CreateAqcFetchOptions): AqcCall {
  const { tokens } = options;
  const transport = options.fetch ?? fetch;
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULTS.upstreamTimeoutMs;
  if (!Number.isFinite(defaultTimeoutMs) || defaultTimeoutMs <= 0) {
    throw new AqcError("config_invalid", "timeoutMs must be a positive number");
  }
  const timeouts = new SharedTimeouts();
  const decodes = options.transportDecodes ??
    (options.fetch === undefined || options.fetch === globalThis.fetch);

  return async function call(officeId, path, init, report) {
    const url = aqcUrl(tokens.apiUrl, path);
    init ??= {};
    const { signal, onToken, waitUntil } = init;
    const method = init.method === undefined ? "GET" : init.method.toUpperCase();
    const headers = headerPairs(init.headers);
    const raw = init.body;
    // Strings and blobs are sent as they are, without an await (a microtask and a promise).
    const body = BODYLESS.has(method) || raw == null
      ? null
      : typeof raw === "string" || raw instanceof Blob
      ? raw
      : raw instanceof Uint8Array
      // Copied now, as a Request would copy it: the replay sends the bytes as they were.
      ? new Uint8Array(raw)
      : await replayableBody(url, method, raw, headers);
    const tokenOptions = signal || waitUntil
      ? { ...(signal ? { signal } : {}), ...(waitUntil ? { waitUntil } : {}) }
      : undefined;

    const token = async (replay: boolean): Promise<AccessToken> => {
      if (onToken === undefined) return await tokens.getToken(officeId, tokenOptions);
      const started = performance.now();
      const result = await tokens.getToken(officeId, tokenOptions);
      onToken({ source: result.source, durationMs: performance.now() - started, replay });
      return result;
    };
    const send = async (accessToken: string): Promise<Response> => {
      if (report !== undefined) report.bearer = accessToken;
      init.onBearer?.(accessToken);
      const timeoutMs = init.timeoutMs ?? defaultTimeoutMs;
      const settled = init.settled;
      let timeout: AbortSignal;
      let linked: AbortSignal;
      if (!signal) {
        linked = timeout = timeouts.signal(timeoutMs);
      } else if (settled === undefined) {
        timeout = timeouts.signal(timeoutMs);
        linked = anySignal([signal, timeout]);
      } else {
        ({ signal: linked, timeout } = timeouts.linked(signal, timeoutMs, settled));
      }
      try {
        // `init` spread, not destructured: a rest pattern costs a runtime call per call. The
        // transport then also sees this module's own fields (hooks, `timeoutMs`), which a
        // `fetch` ignores; a fresh array per attempt, so none sees another's bearer.
        return await transport(url, {
          ...init,
          method,
          headers: [...headers, ["authorization", `Bearer ${accessToken}`]],
          body,
          redirect: init.redirect ?? "manual",
          signal: linked,
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (timeout.aborted) {
          throw new AqcError("upstream_timeout", "AQC did not answer in time", { cause: error });
        }
        throw new AqcError("upstream_unreachable", "AQC is unreachable", { cause: error });
      }
    };
    const answer = (response: Response): Response => {
      if (report === undefined) return describedAnswer(response, decoded);
      report.decoded = decoded;
      return response;
    };

    // Deno's fetch leaves a body encoded when the request said exactly "identity" (an
    // upstream that compresses anyway then keeps its label).
    const decoded = decodes && !IDENTITY_ONLY.test(pairValue(headers, "accept-encoding") ?? "");
    const first = await token(false);
    const response = await send(first.accessToken);
    if (response.status !== 401) return answer(response);
    // Only a 401 about the token costs it: any other (an API refusing the request, or a
    // caller provoking 401s on purpose) goes back as it is, and the token stays.
    if (!(await isTokenRejection(response, decoded))) return answer(response);
    await tokens.invalidate(officeId, first.accessToken);
    let fresh: AccessToken;
    try {
      fresh = await token(true);
    } catch (error) {
      await response.body?.cancel();
      throw error;
    }
    if (fresh.accessToken === first.accessToken) return answer(response);
    await response.body?.cancel();
    return answer(await send(fresh.accessToken));
  };
}

/**
 * Creates an authenticated AQC `fetch`. Each call gets a token for the office (from
 * cache when possible), sets `Authorization: Bearer …`, and sends the request with a
 * timeout. On a 401 about the token (AQC's codes 38190–38193, or `WWW-Authenticate:
 * Bearer error="invalid_token"`) it invalidates exactly that token, obtains a fresh one
 * and replays the request once with the same buffered body; a second 401, or a 401 about
 * anything else, is returned as it is. Answers' `Content-Encoding`/`Content-Length`
 * describe the bytes of their body. It
 * never sends a request without a token: when none can be had it throws the token
 * error. Other answers, errors included, are returned unchanged.
 *
 * @example Search flights for an office
 * ```ts ignore
 * import { createAqcFetch, TokenManager } from "@aqc-edge/aqc-edge";
 *
 * const tokens = new TokenManager({ credentials: { apiUrl, clientId, clientSecret } });
 * const aqc = createAqcFetch({ tokens });
 * const response = await aqc(
 *   "NCE1A0955",
 *   "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1",
 * );
 * const offers = await response.json();
 * ```
 *
 * @param options The token manager, transport and timeout.
 * @returns The fetch function.
 * @throws {AqcError} at call time: `office_invalid`, `path_invalid`, any token error,
 * `upstream_timeout` or `upstream_unreachable`. An abort of `init.signal` rejects with
 * its reason.
 */
export function createAqcFetch(options: CreateAqcFetchOptions): AqcFetch {
  const call = createAqcCall(options);
  return (officeId, path, init) => call(officeId, path, init, undefined);
}
