/**
 * The security headers of the gateway's own answers (`/healthz`, `/readyz`, `/status`,
 * `/token/:office`, their refusals included): exactly the eleven that Hono's `secureHeaders()`
 * sets with its defaults, as fixed values. The middleware's options, CSP and nonce machinery
 * were 3.1 KB of the Worker bundle (minified) for headers that never change here. Proxied AQC
 * answers do not get them: their headers are AQC's, filtered (`headers.ts`).
 *
 * @module
 */
import type { MiddlewareHandler } from "@hono/hono";

/** Name and value of each header, in `secureHeaders()`'s order. */
export const OWN_ROUTE_HEADERS: readonly (readonly [string, string])[] = [
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

/**
 * Sets {@linkcode OWN_ROUTE_HEADERS} on the answer (replacing a value a handler set) and
 * removes `X-Powered-By`, after the route answered, as `secureHeaders()` did.
 *
 * @param c The request's context.
 * @param next The route.
 */
export const ownRouteHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  const headers = c.res.headers;
  for (const [name, value] of OWN_ROUTE_HEADERS) headers.set(name, value);
  headers.delete("X-Powered-By");
};
