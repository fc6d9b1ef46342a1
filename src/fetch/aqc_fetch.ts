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
import { resolveAqcUrl } from "./aqc_path.ts";
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

/** Largest amount by which a call's upstream deadline is rounded up (see below). */
const MAX_TIMEOUT_GRAIN_MS = 100;

/**
 * Cloudflare Workers tie a timer to the request that started it (it does not outlive that
 * request), so there a timeout signal cannot be shared across requests.
 */
const SHARE_TIMEOUTS = globalThis.navigator?.userAgent !== "Cloudflare-Workers";

/**
 * Upstream timeout signals, one per timeout value and per grain of start times (1/20 of
 * the timeout, at most 100 ms), shared by the calls that start within it; a call's
 * deadline is its timeout plus at most the grain. A signal per call kept a timer and about
 * half a kilobyte alive for the whole timeout (30 s by default): some 80 MB and much GC
 * work at 6,000 calls per second. `fetch` drops its listener from a signal when the call
 * is over, so sharing one retains nothing.
 */
/**
 * A signal that aborts with `caller` or `timeout`, unlinked from both once `settled`
 * settles: the cheap `AbortSignal.any` for callers that know when they are done (an
 * unlinked listener on the shared timeout would otherwise live as long as it does).
 */
function linkedSignal(
  caller: AbortSignal,
  timeout: AbortSignal,
  settled: Promise<unknown>,
): AbortSignal {
  const controller = new AbortController();
  if (caller.aborted || timeout.aborted) {
    controller.abort(caller.aborted ? caller.reason : timeout.reason);
    return controller.signal;
  }
  const onCaller = () => controller.abort(caller.reason);
  const onTimeout = () => controller.abort(timeout.reason);
  caller.addEventListener("abort", onCaller, { once: true });
  timeout.addEventListener("abort", onTimeout, { once: true });
  const unlink = () => {
    caller.removeEventListener("abort", onCaller);
    timeout.removeEventListener("abort", onTimeout);
  };
  settled.then(unlink, unlink);
  return controller.signal;
}

class SharedTimeouts {
  readonly #current = new Map<number, { signal: AbortSignal; until: number }>();

  signal(timeoutMs: number): AbortSignal {
    if (!SHARE_TIMEOUTS) return AbortSignal.timeout(timeoutMs);
    const now = performance.now();
    const current = this.#current.get(timeoutMs);
    if (current !== undefined && now < current.until) return current.signal;
    const grain = Math.min(MAX_TIMEOUT_GRAIN_MS, timeoutMs / 20);
    const signal = AbortSignal.timeout(Math.ceil(timeoutMs + grain));
    // Per-call timeouts could be many distinct values: keep only a few.
    if (this.#current.size >= 16 && current === undefined) this.#current.clear();
    this.#current.set(timeoutMs, { signal, until: now + grain });
    return signal;
  }
}

/**
 * The body to send, replayable after a 401 with the very same bytes. Strings and blobs are
 * immutable, so `fetch` sends them again as they are (with its usual default content
 * type); anything else (a stream, bytes the caller may change, form data) is buffered once,
 * keeping the content type `fetch` would have derived from it (e.g. a multipart boundary).
 */
async function replayableBody(
  url: URL,
  method: string,
  body: BodyInit,
  headers: Headers,
): Promise<BodyInit> {
  if (typeof body === "string" || body instanceof Blob) return body;
  const buffered = new Request(url, { method, body, headers });
  const derived = buffered.headers.get("content-type");
  if (derived !== null && !headers.has("content-type")) headers.set("content-type", derived);
  return await buffered.arrayBuffer();
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
  const { tokens } = options;
  const transport = options.fetch ?? fetch;
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULTS.upstreamTimeoutMs;
  if (!Number.isFinite(defaultTimeoutMs) || defaultTimeoutMs <= 0) {
    throw new AqcError("config_invalid", "timeoutMs must be a positive number");
  }
  const timeouts = new SharedTimeouts();
  const decodes = options.transportDecodes ??
    (options.fetch === undefined || options.fetch === globalThis.fetch);

  return async function aqcFetch(officeId, path, init = {}) {
    const url = resolveAqcUrl(tokens.apiUrl, path);
    const { waitUntil, onToken, onBearer, timeoutMs, signal, settled, ...requestInit } = init;
    const method = (requestInit.method ?? "GET").toUpperCase();
    const headers = new Headers(requestInit.headers);
    headers.delete("authorization");
    const body = BODYLESS.has(method) || requestInit.body == null
      ? undefined
      : await replayableBody(url, method, requestInit.body, headers);

    const token = async (replay: boolean): Promise<AccessToken> => {
      const started = performance.now();
      const result = await tokens.getToken(officeId, {
        ...(signal ? { signal } : {}),
        ...(waitUntil ? { waitUntil } : {}),
      });
      onToken?.({ source: result.source, durationMs: performance.now() - started, replay });
      return result;
    };
    const send = async (accessToken: string): Promise<Response> => {
      headers.set("authorization", `Bearer ${accessToken}`);
      onBearer?.(accessToken);
      const timeout = timeouts.signal(timeoutMs ?? defaultTimeoutMs);
      try {
        return await transport(url, {
          ...requestInit,
          method,
          headers,
          body: body ?? null,
          redirect: requestInit.redirect ?? "manual",
          signal: !signal
            ? timeout
            : settled === undefined
            ? anySignal([signal, timeout])
            : linkedSignal(signal, timeout, settled),
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (timeout.aborted) {
          throw new AqcError("upstream_timeout", "AQC did not answer in time", { cause: error });
        }
        throw new AqcError("upstream_unreachable", "AQC is unreachable", { cause: error });
      }
    };

    // Deno's fetch leaves a body encoded when the request said exactly "identity" (an
    // upstream that compresses anyway then keeps its label).
    const decoded = decodes && !IDENTITY_ONLY.test(headers.get("accept-encoding") ?? "");
    const first = await token(false);
    const response = await send(first.accessToken);
    if (response.status !== 401) return describedAnswer(response, decoded);
    // Only a 401 about the token costs it: any other (an API refusing the request, or a
    // caller provoking 401s on purpose) goes back as it is, and the token stays.
    if (!(await isTokenRejection(response, decoded))) {
      return describedAnswer(response, decoded);
    }
    await tokens.invalidate(officeId, first.accessToken);
    let fresh: AccessToken;
    try {
      fresh = await token(true);
    } catch (error) {
      await response.body?.cancel();
      throw error;
    }
    if (fresh.accessToken === first.accessToken) {
      return describedAnswer(response, decoded);
    }
    await response.body?.cancel();
    return describedAnswer(await send(fresh.accessToken), decoded);
  };
}
