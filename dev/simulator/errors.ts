/**
 * Builders for the two error shapes Amadeus answers with: the flat OAuth2 shape of the
 * token endpoint and the `{"errors":[…]}` shape of every other API.
 *
 * @module
 */

/** Content type of Amadeus API answers (errors and results alike). */
export const AMADEUS_JSON = "application/vnd.amadeus+json";

/** Amadeus codes the simulator answers with, named after what they mean. */
export const AMADEUS_CODES = {
  /** Every flat OAuth2 error of the token endpoint carries this code. */
  invalidParameters: 38187,
  internalError: 38189,
  invalidAccessToken: 38190,
  invalidAuthorizationHeader: 38191,
  accessTokenExpired: 38192,
  accessTokenRevoked: 38193,
  tooManyRequests: 38194,
  resourceNotFound: 38196,
  mandatoryDataMissing: 32171,
  invalidFormat: 477,
  recordNotFound: 1797,
  /** A 401 about the application's rights, not its token (simulator's choice). */
  notAuthorized: 38197,
} as const;

/** One entry of an Amadeus `{"errors":[…]}` body. */
export interface AmadeusErrorEntry {
  /** Numeric Amadeus error code, e.g. `38190`. */
  code: number;
  /** Short title, e.g. `Invalid access token`. */
  title: string;
  /** Human explanation. */
  detail?: string;
  /** Where in the request the problem is (`parameter`, `pointer`, `example`). */
  source?: Record<string, string>;
}

/** The OAuth2 `error` values the token endpoint uses. */
export type OAuthErrorName =
  | "invalid_request"
  | "invalid_client"
  | "unauthorized_client"
  | "unsupported_grant_type";

/**
 * A flat token-endpoint error, exactly as Amadeus shapes it.
 *
 * @param status HTTP status (400 or 401).
 * @param error The OAuth2 error name.
 * @param description Human explanation (`error_description`).
 * @returns A JSON response.
 */
export function oauthError(status: number, error: OAuthErrorName, description: string): Response {
  return Response.json(
    {
      error,
      error_description: description,
      code: AMADEUS_CODES.invalidParameters,
      title: "Invalid parameters",
    },
    { status },
  );
}

/**
 * An Amadeus `{"errors":[…]}` answer with `application/vnd.amadeus+json`.
 *
 * @param status HTTP status, repeated in every entry.
 * @param entries One or more error entries.
 * @param headers Extra response headers, e.g. `Retry-After`.
 * @returns The response.
 */
export function amadeusErrors(
  status: number,
  entries: AmadeusErrorEntry[],
  headers: Record<string, string> = {},
): Response {
  const errors = entries.map((e) => ({
    status,
    code: e.code,
    title: e.title,
    ...(e.detail === undefined ? {} : { detail: e.detail }),
    source: e.source ?? {},
  }));
  return new Response(JSON.stringify({ errors }), {
    status,
    headers: { ...headers, "content-type": AMADEUS_JSON },
  });
}

/**
 * The Amadeus answer to an unusable access token or `Authorization` header.
 *
 * @param reason Why the token was refused.
 * @returns A 401 response with code 38190, 38191, 38192 or 38193.
 */
export function tokenRejected(
  reason: "missing_header" | "unknown" | "expired" | "revoked",
): Response {
  const entry: Record<typeof reason, AmadeusErrorEntry> = {
    missing_header: {
      code: AMADEUS_CODES.invalidAuthorizationHeader,
      title: "Invalid HTTP header",
      detail: "Missing or invalid format for mandatory Authorization header",
    },
    unknown: {
      code: AMADEUS_CODES.invalidAccessToken,
      title: "Invalid access token",
      detail: "The access token provided in the Authorization header is invalid",
    },
    expired: {
      code: AMADEUS_CODES.accessTokenExpired,
      title: "Access token expired",
      detail: "The access token is expired",
    },
    revoked: {
      code: AMADEUS_CODES.accessTokenRevoked,
      title: "Access token revoked",
      detail: "The access token has been revoked",
    },
  };
  // RFC 6750 §3: a missing header gets a bare challenge, a bad token error="invalid_token".
  const challenge = reason === "missing_header"
    ? 'Bearer realm="AQC"'
    : 'Bearer realm="AQC", error="invalid_token"';
  return amadeusErrors(401, [entry[reason]], { "www-authenticate": challenge });
}

/**
 * A 401 that is not about the token: the API refuses this application or resource.
 *
 * @param challenge Optional `WWW-Authenticate` value.
 * @returns The answer.
 */
export function notAuthorized(challenge?: string): Response {
  return amadeusErrors(401, [{
    code: AMADEUS_CODES.notAuthorized,
    title: "Not authorized",
    detail: "This application is not allowed to access this resource",
  }], challenge === undefined ? {} : { "www-authenticate": challenge });
}

/**
 * The Amadeus rate-limit answer.
 *
 * @param retryAfterSeconds Value of the `Retry-After` header.
 * @returns A 429 response with code 38194.
 */
export function tooManyRequests(retryAfterSeconds: number): Response {
  return amadeusErrors(429, [{
    code: AMADEUS_CODES.tooManyRequests,
    title: "Too many requests",
    detail: "The network rate limit is exceeded, please try again later",
  }], { "retry-after": String(retryAfterSeconds) });
}

/**
 * The Amadeus answer for a path or method it does not serve.
 *
 * @returns A 404 response with code 38196.
 */
export function resourceNotFound(): Response {
  return amadeusErrors(404, [{
    code: AMADEUS_CODES.resourceNotFound,
    title: "Resource not found",
    detail: "The targeted resource doesn't exist",
  }]);
}

/**
 * A generic Amadeus server-side error for any status.
 *
 * @param status HTTP status, typically 500, 502 or 503.
 * @returns The response.
 */
export function serverError(status: number): Response {
  const titles: Record<number, string> = {
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
  };
  // Like AQC's front, a 503 says when to come back.
  return amadeusErrors(status, [{
    code: AMADEUS_CODES.internalError,
    title: titles[status] ?? "Internal error",
    detail: "An internal error occurred, please contact your administrator",
  }], status === 503 ? { "retry-after": "1" } : {});
}
