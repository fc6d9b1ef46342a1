/**
 * The simulator's fault and behaviour knobs: their types, defaults, and the validation
 * shared by {@linkcode Simulator.configure} and `POST /__sim/configure`.
 *
 * @module
 */

import type { IssuedToken } from "./token_store.ts";

/** Which requests a failure applies to, and for how long. */
export interface FailureScope {
  /**
   * How many of the next matching requests fail; the knob clears itself when it reaches
   * 0. Absent means every matching request fails until reconfigured.
   */
  remaining?: number;
  /**
   * Only requests for these offices fail (token requests: `guest_office_id`; API
   * requests: the office of the presented token). Absent means all offices.
   */
  offices?: string[];
}

/** Answer with this status and body (default body: Amadeus errors shape). */
export interface StatusFailure extends FailureScope {
  /** The failure kind. */
  mode: "status";
  /** HTTP status, e.g. 500, 502 or 503. */
  status: number;
  /** Raw response body; default an Amadeus `{"errors":[…]}` body for the status. */
  body?: string;
  /** Content type of `body`; default `application/vnd.amadeus+json`. */
  contentType?: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** Answer 429 with code 38194 and a `Retry-After` header. */
export interface RateLimitedFailure extends FailureScope {
  /** The failure kind. */
  mode: "rate_limited";
  /** Value of `Retry-After`; default 1. */
  retryAfterSeconds?: number;
}

/**
 * Never answer: the request stays pending until the client aborts or disconnects, or
 * the simulator is closed or {@linkcode Simulator.releasePending} is called (then the
 * connection is dropped).
 */
export interface HangFailure extends FailureScope {
  /** The failure kind. */
  mode: "hang";
}

/** Drop the connection without answering: the client's `fetch` rejects. */
export interface ResetFailure extends FailureScope {
  /** The failure kind. */
  mode: "reset";
}

/** Answer any body at all, e.g. truncated JSON or HTML, to test response validation. */
export interface MalformedFailure extends FailureScope {
  /** The failure kind. */
  mode: "malformed";
  /** The raw body. */
  body: string;
  /** Content type; default `application/json`. */
  contentType?: string;
  /** HTTP status; default 200. */
  status?: number;
}

/** Token endpoint only: answer 401 `invalid_client` even for valid credentials. */
export interface InvalidClientFailure extends FailureScope {
  /** The failure kind. */
  mode: "invalid_client";
}

/** APIs only: answer 401 code 38190 even for a valid token. */
export interface InvalidTokenFailure extends FailureScope {
  /** The failure kind. */
  mode: "invalid_token";
}

/**
 * APIs only: answer a 401 that is *not* about the token (an API refusing this
 * application or resource), as AQC APIs sometimes do; a new token would not help.
 */
export interface UnauthorizedFailure extends FailureScope {
  /** The failure kind. */
  mode: "unauthorized";
  /** A `WWW-Authenticate` header to send along, e.g. `Bearer error="insufficient_scope"`. */
  challenge?: string;
}

/** A fault injected into token requests. */
export type TokenFailure =
  | StatusFailure
  | RateLimitedFailure
  | HangFailure
  | ResetFailure
  | MalformedFailure
  | InvalidClientFailure;

/** A fault injected into API requests (everything but the token endpoint and `/__sim/`). */
export type ApiFailure =
  | StatusFailure
  | RateLimitedFailure
  | HangFailure
  | ResetFailure
  | MalformedFailure
  | InvalidTokenFailure
  | UnauthorizedFailure;

/** What a {@linkcode TokenResponder} gets besides the request. */
export interface TokenResponderContext {
  /** The parsed form body. */
  form: URLSearchParams;
  /** `guest_office_id` as sent, or `null`. */
  officeId: string | null;
  /** The simulator clock, epoch ms. */
  now: number;
  /**
   * Registers a valid token for the request's client and office (no credential check),
   * so a custom answer can carry a token the APIs accept.
   */
  issueToken(options?: { lifetimeSeconds?: number }): IssuedToken;
}

/**
 * Overrides the token endpoint for one request: return a `Response` to send it, or
 * `undefined` to let the simulator answer normally.
 */
export type TokenResponder = (
  request: Request,
  context: TokenResponderContext,
) => Response | undefined | Promise<Response | undefined>;

/** The complete knob set in effect. */
export interface SimulatorKnobs {
  /** `expires_in` of issued tokens and their real lifetime; default 1799. */
  tokenLifetimeSeconds: number;
  /** Delay before the token endpoint answers; default 0. */
  tokenLatencyMs: number;
  /** Delay before an API answers; default 0. */
  apiLatencyMs: number;
  /** Fault injected into token requests; default none. */
  tokenFailure: TokenFailure | null;
  /** Fault injected into API requests; default none. */
  apiFailure: ApiFailure | null;
  /** Content type of a successful token answer; default `application/json`. */
  contentType: string;
  /**
   * Fields merged into a successful token body (a `null` value deletes the field), e.g.
   * `{ token_type: "bearer" }` or `{ state: "expired" }`. The token is still issued.
   */
  tokenBodyOverrides: Record<string, unknown> | null;
  /** Programmatic override of the token endpoint; cannot be set over HTTP. */
  tokenResponder: TokenResponder | null;
  /**
   * API answers are compressed (`br` or `gzip`) when the request's `Accept-Encoding`
   * asks for it, like real AQC; default `true`.
   */
  compression: boolean;
}

/** A partial knob update: absent keys keep their value, `null` or `undefined` restore the default. */
export type KnobsUpdate = { [K in keyof SimulatorKnobs]?: SimulatorKnobs[K] | null };

/** The knob values of a fresh simulator. */
export const DEFAULT_KNOBS: Readonly<SimulatorKnobs> = Object.freeze({
  tokenLifetimeSeconds: 1799,
  tokenLatencyMs: 0,
  apiLatencyMs: 0,
  tokenFailure: null,
  apiFailure: null,
  contentType: "application/json",
  tokenBodyOverrides: null,
  tokenResponder: null,
  compression: true,
});

const KNOB_NAMES = Object.keys(DEFAULT_KNOBS) as (keyof SimulatorKnobs)[];
const TOKEN_MODES = ["status", "rate_limited", "hang", "reset", "malformed", "invalid_client"];
const API_MODES = [
  "status",
  "rate_limited",
  "hang",
  "reset",
  "malformed",
  "invalid_token",
  "unauthorized",
];

/**
 * Applies a validated update to a knob set.
 *
 * @param current The knobs in effect.
 * @param update The change; validated here.
 * @returns A new knob set; `current` is not modified.
 * @throws {TypeError} When a value is invalid; the message names the knob.
 */
export function applyKnobs(current: SimulatorKnobs, update: KnobsUpdate): SimulatorKnobs {
  const checked = validateKnobs(update);
  const next: Record<string, unknown> = { ...current };
  for (const name of KNOB_NAMES) {
    if (!(name in checked)) continue;
    const value = checked[name];
    // Failures are copied because the simulator counts `remaining` down in place.
    next[name] = value === null || value === undefined
      ? DEFAULT_KNOBS[name]
      : isRecord(value)
      ? { ...value }
      : value;
  }
  return next as unknown as SimulatorKnobs;
}

/**
 * Checks an update that may come from JSON, so nothing about its shape is trusted.
 *
 * @param value The candidate update.
 * @param options `allowResponder: false` rejects `tokenResponder` (for HTTP callers).
 * @returns The same object, typed.
 * @throws {TypeError} When a value is invalid; the message names the knob.
 */
export function validateKnobs(
  value: unknown,
  options: { allowResponder?: boolean } = {},
): KnobsUpdate {
  if (!isRecord(value)) throw new TypeError("Knobs must be an object");
  for (const key of Object.keys(value)) {
    if (!(KNOB_NAMES as string[]).includes(key)) {
      throw new TypeError(`Unknown knob "${key}"; known: ${KNOB_NAMES.join(", ")}`);
    }
  }
  const present = (k: string) => value[k] !== undefined && value[k] !== null;
  for (const k of ["tokenLifetimeSeconds", "tokenLatencyMs", "apiLatencyMs"]) {
    if (present(k)) checkNumber(value[k], k, { min: 0 });
  }
  if (present("compression") && typeof value.compression !== "boolean") {
    throw new TypeError("Knob compression must be a boolean");
  }
  if (present("contentType") && typeof value.contentType !== "string") {
    throw new TypeError("Knob contentType must be a string");
  }
  if (present("tokenBodyOverrides") && !isRecord(value.tokenBodyOverrides)) {
    throw new TypeError("Knob tokenBodyOverrides must be an object");
  }
  if (present("tokenResponder")) {
    if (options.allowResponder === false) {
      throw new TypeError("Knob tokenResponder can only be set programmatically");
    }
    if (typeof value.tokenResponder !== "function") {
      throw new TypeError("Knob tokenResponder must be a function");
    }
  }
  if (present("tokenFailure")) checkFailure(value.tokenFailure, "tokenFailure", TOKEN_MODES);
  if (present("apiFailure")) checkFailure(value.apiFailure, "apiFailure", API_MODES);
  return value as KnobsUpdate;
}

/**
 * The knobs as JSON-friendly data (the responder is reported as a boolean).
 *
 * @param knobs The knobs in effect.
 * @returns A plain object safe for `JSON.stringify`.
 */
export function knobsToJson(knobs: SimulatorKnobs): Record<string, unknown> {
  return { ...knobs, tokenResponder: knobs.tokenResponder !== null };
}

function checkFailure(value: unknown, knob: string, modes: string[]): void {
  if (!isRecord(value)) throw new TypeError(`Knob ${knob} must be an object`);
  const mode = value.mode;
  if (typeof mode !== "string" || !modes.includes(mode)) {
    throw new TypeError(`Knob ${knob}.mode must be one of ${modes.join(", ")}`);
  }
  if (value.remaining !== undefined) {
    checkNumber(value.remaining, `${knob}.remaining`, { min: 0, integer: true });
  }
  if (
    value.offices !== undefined &&
    !(Array.isArray(value.offices) && value.offices.every((o) => typeof o === "string"))
  ) {
    throw new TypeError(`Knob ${knob}.offices must be an array of strings`);
  }
  if (mode === "status") {
    checkNumber(value.status, `${knob}.status`, { min: 200, max: 599, integer: true });
  }
  if (mode === "malformed") {
    if (typeof value.body !== "string") throw new TypeError(`Knob ${knob}.body must be a string`);
    if (value.status !== undefined) {
      checkNumber(value.status, `${knob}.status`, { min: 200, max: 599, integer: true });
    }
  }
  if (mode === "status" && value.body !== undefined && typeof value.body !== "string") {
    throw new TypeError(`Knob ${knob}.body must be a string`);
  }
  if (value.contentType !== undefined && typeof value.contentType !== "string") {
    throw new TypeError(`Knob ${knob}.contentType must be a string`);
  }
  if (
    value.headers !== undefined &&
    !(isRecord(value.headers) && Object.values(value.headers).every((h) => typeof h === "string"))
  ) {
    throw new TypeError(`Knob ${knob}.headers must be an object of strings`);
  }
  if (value.retryAfterSeconds !== undefined) {
    checkNumber(value.retryAfterSeconds, `${knob}.retryAfterSeconds`, { min: 0 });
  }
}

function checkNumber(
  value: unknown,
  name: string,
  limits: { min?: number; max?: number; integer?: boolean },
): void {
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (limits.min === undefined || value >= limits.min) &&
    (limits.max === undefined || value <= limits.max) &&
    (!limits.integer || Number.isInteger(value));
  if (!ok) {
    const range = `${limits.min ?? "-∞"}..${limits.max ?? "∞"}`;
    throw new TypeError(
      `Knob ${name} must be a finite ${limits.integer ? "integer" : "number"} in ${range}`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
