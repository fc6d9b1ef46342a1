/**
 * The proxy route, `ALL /aqc/{office}/*`, as a plain function of the request: the office
 * check, the ops guard, the path policy, the AQC call and the answer's headers. Both ways
 * in call it: Hono's route (first requests of a key, bodies, telemetry) and the gateway's
 * fast path for warm callers (`fast_path.ts`).
 *
 * @module
 */
import type { AqcConfig, GatewayKey } from "../config/load_config.ts";
import { AqcError } from "../errors.ts";
import type { AqcCall, AqcRequestInit, CallReport } from "../fetch/aqc_fetch.ts";
import { normalizeOfficeId } from "../office.ts";
import { keyAllowsOffice } from "./caller_auth.ts";
import { forwardRequestHeaders, forwardResponseHeaders } from "./headers.ts";
import type { OpsGuard } from "./ops_guard.ts";
import { isSecurityPath } from "./path_policy.ts";
import { problem } from "./problem.ts";
import { ABANDONABLE_METHODS, labelRequest } from "./request_policy.ts";
import type { GatewayTelemetry } from "./telemetry.ts";

/** Who a request is, for the log lines of its failures. */
export interface RequestIds {
  /** The gateway's id of the request. */
  requestId: string;
  /** The caller's headers (their `X-Request-Id` is logged, sanitised). */
  headers: Headers;
  /** The caller's key, once authenticated. */
  key?: GatewayKey | undefined;
}

/** Answers an error as problem+json, logging it (the gateway's `fail`). */
export type Fail = (error: unknown, ids: RequestIds, officeId?: string) => Response;

/** One proxied request, as the route or the fast path sees it. */
export interface ProxyRequest {
  /** The caller's request. */
  request: Request;
  /** The authenticated key. */
  key: GatewayKey;
  /** The office path segment as sent (Hono's decoded param, or the fast path's raw one). */
  office: string;
  /** The gateway's request id. */
  requestId: string;
  /** Deno's `ServeHandlerInfo.completed`, when served by `deno serve`. */
  completed: Promise<unknown> | undefined;
  /** The runtime's `waitUntil` (Workers), when there is one. */
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  /** The body, read and held to the limit (`readBodyWithin`); `null` when there is none. */
  body: Uint8Array<ArrayBuffer> | null;
}

/** What the route needs. */
export interface ProxyOptions {
  config: AqcConfig;
  call: AqcCall;
  guard: OpsGuard;
  fail: Fail;
  telemetry: GatewayTelemetry | undefined;
}

/**
 * A `Host` header that is `host[:port]` (RFC 9110 §7.2): a reg-name, IPv4 or IP literal. The
 * server builds `request.url` from it, so one holding `/`, `?`, `#`, `@`, `\` or spaces
 * (e.g. `evil.example/aqc/OTHER1234`) would move the path the route and the upstream path
 * are read from.
 */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{1,5})?$/;

/**
 * The part of the URL after `/aqc/{office}`: path and query, exactly as sent. The first two
 * raw segments are skipped whatever their length: Hono routes an encoded prefix
 * (`/%61qc/…`) here too, and counting five characters then left the office in the path.
 */
function upstreamPath(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const prefixEnd = url.indexOf("/", pathStart + 1);
  const officeEnd = prefixEnd === -1 ? -1 : url.indexOf("/", prefixEnd + 1);
  const queryStart = url.indexOf("?", pathStart);
  if (officeEnd === -1 || (queryStart !== -1 && queryStart < officeEnd)) return "/";
  return url.slice(officeEnd);
}

/**
 * Paths already refused or allowed by the security-path policy (decode rounds and
 * segment checks, about 1 µs): bounded like `aqcUrl`'s, restarted when full.
 */
class PathVerdicts {
  readonly #verdicts = new Map<string, boolean>();

  isSecurityPath(path: string): boolean {
    const queryAt = path.indexOf("?");
    const pathname = queryAt === -1 ? path : path.slice(0, queryAt);
    const known = this.#verdicts.get(pathname);
    if (known !== undefined) return known;
    const verdict = isSecurityPath(pathname);
    if (pathname.length <= 256) {
      if (this.#verdicts.size >= 512) this.#verdicts.clear();
      this.#verdicts.set(pathname, verdict);
    }
    return verdict;
  }
}

/**
 * Builds the proxy route.
 *
 * @param options Configuration, the AQC call, the guard, `fail`, telemetry.
 * @returns The handler of one proxied request; every answer it gives carries the request's
 * `X-Request-Id` (the proxied ones in their single header pass, so the fast path labels
 * nothing twice).
 */
export function createProxy(
  { config, call, guard, fail, telemetry }: ProxyOptions,
): (proxied: ProxyRequest) => Promise<Response> {
  const paths = new PathVerdicts();

  /** The office, canonical and allowed for the key, or the answer refusing it. */
  const checkOffice = (request: Request, key: GatewayKey, raw: string, ids: RequestIds) => {
    // RFC 9112 §3.2: a Host that is not a host answers 400, before its path is trusted.
    const host = request.headers.get("host");
    if (host !== null && !VALID_HOST.test(host)) {
      return problem("path_invalid", "The Host header must be a host name and optional port");
    }
    let officeId: string;
    try {
      officeId = normalizeOfficeId(raw);
    } catch (error) {
      return fail(error, ids);
    }
    if (!keyAllowsOffice(key, officeId, config.offices)) {
      return problem("office_forbidden", `This gateway key may not call office ${officeId}`);
    }
    return officeId;
  };

  const forward = async (
    { request, completed, waitUntil, body }: ProxyRequest,
    officeId: string,
    ids: RequestIds,
  ): Promise<Response> => {
    const method = request.method;
    const path = upstreamPath(request.url);
    if (paths.isSecurityPath(path)) {
      // Refused before any token is spent: the security API (the token endpoint among
      // it) only answers the gateway itself.
      return labelRequest(
        problem("path_invalid", "Paths under /v1/security/ are not served by the gateway"),
        ids.requestId,
      );
    }
    // A caller that hangs up before AQC answers abandons an idempotent call (Deno's
    // request.signal aborts on disconnect; with the legacy abort behaviour it also aborts
    // once the answer was fully sent, when there is nothing left to cut).
    const signal = ABANDONABLE_METHODS.has(method) ? request.signal : undefined;
    // `completed` settles once the answer is sent: the signal is then linked cheaply.
    const settled = signal !== undefined ? completed : undefined;
    let upstreamStarted = 0;
    // Server-Timing, written here rather than by Hono's timing middleware, which cost a
    // middleware layer, a Map, an array and a header append on every request.
    let serverTiming = "";
    const report: CallReport = { bearer: "", decoded: false };
    try {
      const init: AqcRequestInit = {
        method,
        headers: forwardRequestHeaders(request.headers),
        body: method === "GET" || method === "HEAD" ? null : body,
        onToken: (timing) => {
          serverTiming += `${serverTiming === "" ? "" : ","}${
            timing.replay ? "token-replay" : "token"
          };dur=${timing.durationMs.toFixed(1)};desc="${timing.source}"`;
          upstreamStarted = performance.now();
          telemetry?.onToken(timing);
        },
      };
      // Set only when there is one (three conditional spreads cost three object copies).
      // A caller that leaves mid-answer cancels the streamed body, which cancels the
      // upstream fetch; the signal covers the time before AQC's headers arrive.
      if (signal !== undefined) init.signal = signal;
      if (settled !== undefined) init.settled = settled;
      if (waitUntil !== undefined) init.waitUntil = waitUntil;
      const response = await call(officeId, path, init, report);
      const headers = forwardResponseHeaders(response.headers, report.bearer, report.decoded);
      headers.push(
        [
          "server-timing",
          `${serverTiming},upstream;dur=${(performance.now() - upstreamStarted).toFixed(1)}`,
        ],
        ["x-request-id", ids.requestId],
      );
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    } catch (error) {
      // The caller is gone: nobody reads this answer, and it is not an error of ours.
      if (signal?.aborted) return labelRequest(new Response(null, { status: 499 }), ids.requestId);
      const answer = fail(error, ids, error instanceof AqcError ? officeId : undefined);
      if (serverTiming !== "" && error instanceof AqcError) {
        answer.headers.set("server-timing", serverTiming);
      }
      return labelRequest(answer, ids.requestId);
    }
  };

  return async (proxied) => {
    const { request, key, requestId } = proxied;
    const ids: RequestIds = { requestId, headers: request.headers, key };
    const officeId = checkOffice(request, key, proxied.office, ids);
    // A refused office (invalid, forbidden, bad Host) is answered before the guard.
    if (typeof officeId !== "string") return labelRequest(officeId, requestId);
    if (!guard.active) return await forward(proxied, officeId, ids);
    const pending = guard.admit(key, officeId, requestId);
    const admission = pending instanceof Promise ? await pending : pending;
    if (admission.refused !== undefined) return admission.refused;
    const response = await forward(proxied, officeId, ids);
    return guard.settle(officeId, admission, response, proxied.waitUntil);
  };
}
