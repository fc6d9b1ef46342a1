/**
 * One protocol step: ask the AQC token endpoint for a token, validate and classify.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { anySignal } from "../signal.ts";
import { raceAbort } from "./delay.ts";
import type { Credentials } from "./types.ts";
import { parseRetryAfter } from "./retry_after.ts";

/** Longest lifetime accepted from the endpoint, whatever `expires_in` says. */
export const MAX_TOKEN_LIFETIME_S = 86_400;

/** Path of the AQC token endpoint below the API root. */
export const TOKEN_PATH = "/v1/security/oauth2/token";

/** A validated token answer. */
export interface TokenResponse {
  /** The bearer token. */
  accessToken: string;
  /** Seconds of validity, capped at 24 h. */
  expiresInSeconds: number;
}

/** A token obtained from the endpoint with its expiry anchored to the send time. */
export interface IssuedToken {
  /** The bearer token. */
  accessToken: string;
  /** Epoch ms the request was sent. */
  issuedAt: number;
  /** `issuedAt` plus the validated lifetime. */
  expiresAt: number;
}

/** Options of {@linkcode requestToken}. */
export interface RequestTokenOptions {
  /** Transport; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms clock; defaults to `Date.now`. */
  now?: () => number;
  /** Per-request timeout in ms; default 5,000. */
  timeoutMs?: number;
  /** Cancels the request. */
  signal?: AbortSignal;
}

function invalid(detail: string): AqcError {
  return new AqcError("token_response_invalid", `Token endpoint answered ${detail}`, {
    status: 200,
  });
}

/**
 * Validates the JSON body of a 200 answer of the token endpoint, as AQC documents it:
 * a non-empty string `access_token`, `token_type` `Bearer` (any case), a finite
 * `expires_in` above 0 (capped at 24 h) and `state`, where present, `approved`.
 *
 * @example
 * ```ts
 * import { parseTokenResponse } from "./request.ts";
 *
 * const token = parseTokenResponse({
 *   token_type: "Bearer",
 *   access_token: "AnAccessToken",
 *   expires_in: 1799,
 *   state: "approved",
 * });
 * if (token.expiresInSeconds !== 1799) throw new Error("unexpected");
 * ```
 *
 * @param body The parsed JSON body.
 * @returns The token and its lifetime.
 * @throws {AqcError} `token_response_invalid` when any rule fails; the message names the
 * field, never its value.
 */
export function parseTokenResponse(body: unknown): TokenResponse {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("a body that is not a JSON object");
  }
  const record = body as Record<string, unknown>;
  const accessToken = record.access_token;
  if (typeof accessToken !== "string" || accessToken.length === 0) {
    throw invalid("without a non-empty access_token");
  }
  // A token that cannot travel in an Authorization header is as useless as none.
  if (!/^[\x21-\x7e]+$/.test(accessToken)) {
    throw invalid("an access_token with characters not allowed in a header");
  }
  const tokenType = record.token_type;
  if (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer") {
    throw invalid("a token_type other than Bearer");
  }
  const expiresIn = record.expires_in;
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw invalid("an expires_in that is not a positive number");
  }
  if ("state" in record && record.state !== undefined && record.state !== "approved") {
    throw invalid("a state other than approved");
  }
  return { accessToken, expiresInSeconds: Math.min(expiresIn, MAX_TOKEN_LIFETIME_S) };
}

/** Bytes of an error body read to find its `error` field; the rest is discarded. */
const MAX_ERROR_BODY_BYTES = 16_384;

/**
 * Bytes of a 200 answer read at most. AQC's answer is a few hundred bytes and a JWT access
 * token a few kB; an endpoint that streams more (or never stops) must not be buffered
 * until the request timeout (seen: 88 MiB in one second on loopback).
 */
export const MAX_TOKEN_BODY_BYTES = 65_536;

/**
 * Reads at most `max` bytes of a body: `undefined` when it is larger or fails to read.
 * The rest is cancelled, never buffered.
 */
async function readBounded(response: Response, max: number): Promise<Uint8Array | undefined> {
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    return undefined;
  } finally {
    reader.cancel().catch(() => undefined);
  }
  if (size > max) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads at most {@linkcode MAX_ERROR_BODY_BYTES} of an error answer and parses it as
 * JSON: a misconfigured URL may answer a large HTML page, and it must not be buffered.
 */
async function readErrorJson(response: Response): Promise<unknown> {
  const bytes = await readBounded(response, MAX_ERROR_BODY_BYTES);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** OAuth errors that mean the client id or secret is wrong (RFC 6749 §5.2). */
const CREDENTIAL_ERRORS = new Set(["invalid_client", "unauthorized_client"]);

/** Other token endpoint error names of RFC 6749 §5.2 and §4.1.2.1: the request was refused. */
const REQUEST_ERRORS = new Set([
  "invalid_request",
  "invalid_grant",
  "unsupported_grant_type",
  "invalid_scope",
  "access_denied",
]);

/** OAuth errors that say the server itself is in trouble: retried like a 5xx. */
const SERVER_ERRORS = new Set(["server_error", "temporarily_unavailable"]);

function errorField(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const error = (body as Record<string, unknown>).error;
  return typeof error === "string" ? error : undefined;
}

/**
 * Turns a non-200 answer of the token endpoint into a classified error (the table is in
 * the README and docs/ARCHITECTURE.md):
 *
 * - 429 → `rate_limited`; 408 and 5xx → `token_endpoint_unavailable` (both retried, with
 *   `retryAfterSeconds` from `Retry-After` when present);
 * - a 4xx whose JSON body names `invalid_client`/`unauthorized_client` →
 *   `credentials_rejected`; another OAuth error name → `token_request_rejected`;
 * - any other answer (404, 405, HTML, JSON without a registered `error`, a redirect) is
 *   not an OAuth token endpoint talking → `token_endpoint_misconfigured`.
 */
async function classifyFailure(response: Response, now: number): Promise<AqcError> {
  const status = response.status;
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), now);
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  if (status === 429) {
    await response.body?.cancel();
    return new AqcError("rate_limited", "Token endpoint answered 429 Too Many Requests", {
      status,
      ...retry,
    });
  }
  if (status === 408 || status >= 500) {
    await response.body?.cancel();
    return new AqcError("token_endpoint_unavailable", `Token endpoint answered ${status}`, {
      status,
      ...retry,
    });
  }
  const error = status >= 400 && status < 500
    ? errorField(await readErrorJson(response))
    : (await response.body?.cancel(), undefined);
  // Only a registered OAuth error name is echoed. A pattern such as /^[a-z_]+$/ is not
  // enough: an endpoint (or a proxy in front of it) that reflects the form would put the
  // client secret there, and a secret of lower-case letters and underscores matches it.
  if (error !== undefined && CREDENTIAL_ERRORS.has(error)) {
    return new AqcError(
      "credentials_rejected",
      `Token endpoint rejected the client credentials with ${status} (${error})`,
      { status },
    );
  }
  if (error !== undefined && REQUEST_ERRORS.has(error)) {
    return new AqcError(
      "token_request_rejected",
      `Token endpoint rejected the token request with ${status} (${error})`,
      { status },
    );
  }
  if (error !== undefined && SERVER_ERRORS.has(error)) {
    return new AqcError(
      "token_endpoint_unavailable",
      `Token endpoint answered ${status} (${error})`,
      { status, ...retry },
    );
  }
  return new AqcError(
    "token_endpoint_misconfigured",
    `Token endpoint answered ${status} without an OAuth error: check the API URL`,
    { status },
  );
}

function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  const mediaType = contentType.split(";", 1)[0].trim().toLowerCase();
  return mediaType === "application/json" || /^application\/[a-z0-9.+-]*\+json$/.test(mediaType);
}

/**
 * Sends one client-credentials request for `officeId` and returns the validated token
 * with its expiry anchored to the moment the request was sent. No retry: see
 * `TokenManager` for retries, backoff and caching.
 *
 * @example
 * ```ts ignore
 * import { requestToken } from "./request.ts";
 *
 * const token = await requestToken(
 *   { apiUrl: "https://test.travel.api.amadeus.com", clientId: "id", clientSecret: "secret" },
 *   "NCE1A0955",
 * );
 * console.log(new Date(token.expiresAt));
 * ```
 *
 * @param credentials The API root, client id and secret.
 * @param officeId A canonical office id (see `normalizeOfficeId`).
 * @param options Transport, clock, timeout and signal.
 * @returns The token, its send time and its expiry.
 * @throws {AqcError} `credentials_rejected`, `token_request_rejected`,
 * `token_endpoint_misconfigured`, `rate_limited`, `token_endpoint_unavailable` or
 * `token_response_invalid`; an abort of `options.signal` rejects with its reason.
 */
export async function requestToken(
  credentials: Credentials,
  officeId: string,
  options: RequestTokenOptions = {},
): Promise<IssuedToken> {
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 5_000);
  const signal = options.signal ? anySignal([options.signal, timeout]) : timeout;
  const body = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    guest_office_id: officeId,
  });
  const url = credentials.apiUrl.replace(/\/+$/, "") + TOKEN_PATH;
  const issuedAt = now();
  const exchange = async (): Promise<IssuedToken> => {
    const response = await fetchFn(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body,
      signal,
      // Not "error": workerd refuses that mode; a 3xx is simply a non-200 failure here.
      redirect: "manual",
    });
    if (response.status !== 200) throw await classifyFailure(response, now());
    if (!isJson(response.headers.get("content-type"))) {
      await response.body?.cancel();
      throw invalid("a body that is not JSON");
    }
    if (signal.aborted) throw signal.reason;
    const bytes = await readBounded(response, MAX_TOKEN_BODY_BYTES);
    // A read cut short by the timeout is the timeout, not a malformed answer.
    if (signal.aborted) throw signal.reason;
    if (bytes === undefined) throw invalid(`a body larger than ${MAX_TOKEN_BODY_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw invalid("a body that is not valid JSON");
    }
    const token = parseTokenResponse(json);
    return {
      accessToken: token.accessToken,
      issuedAt,
      expiresAt: issuedAt + token.expiresInSeconds * 1000,
    };
  };
  try {
    // Raced against the signal, not only handed to `fetch`: a `fetch` option that ignores
    // it (a wrapper that drops `init.signal`) would otherwise hang the refresh, its lease
    // and every caller of the office.
    return await raceAbort(exchange(), signal);
  } catch (error) {
    if (error instanceof AqcError) throw error;
    if (options.signal?.aborted) throw options.signal.reason;
    const timedOut = timeout.aborted;
    // The transport's own message may quote the URL but never the form body; still, keep
    // it out of the message and attach it only as the cause.
    throw new AqcError(
      "token_endpoint_unavailable",
      timedOut ? "Token endpoint did not answer in time" : "Token endpoint is unreachable",
      { cause: error },
    );
  }
}
