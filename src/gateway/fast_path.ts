/**
 * Which requests may skip Hono: a warm caller's proxied request. The test is
 * deliberately narrow; whatever it leaves out goes through the Hono app, which routes it to
 * the same proxy function (`proxy.ts`) or answers it otherwise.
 *
 * @module
 */
import type { GatewayKey } from "../config/load_config.ts";
import { bearerValue, type GatewayKeyVerifier } from "./caller_auth.ts";

/**
 * The methods taken on the fast path: those the gateway serves, without HEAD (Hono routes
 * HEAD as GET and drops the body of its answer; the app does that).
 */
const FAST_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const PREFIX = "/aqc/";

/**
 * The key and raw office segment of a request the fast path may serve, or `undefined`.
 *
 * Taken only when the URL's path starts with `/aqc/{office}/` literally, with an office
 * segment free of `%` (so Hono's decoded `:office` param would be the same text) and no
 * query before its end; the method is served; the caller's key was verified before
 * (`GatewayKeyVerifier.known`). A body is the caller of this function's to limit
 * (`readBodyWithin`, as on the Hono route).
 * Hono's router matches exactly these paths to `/aqc/:office/*`, and no other route of the
 * gateway starts with `/aqc/`.
 *
 * @param request The caller's request.
 * @param verifier The gateway's key verifier.
 * @returns The key and the office segment, or `undefined`.
 */
export function warmProxyRequest(
  request: Request,
  verifier: GatewayKeyVerifier,
): { key: GatewayKey; office: string } | undefined {
  if (!FAST_METHODS.has(request.method)) return undefined;
  const url = request.url;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1 || !url.startsWith(PREFIX, pathStart)) return undefined;
  const officeStart = pathStart + PREFIX.length;
  const officeEnd = url.indexOf("/", officeStart);
  if (officeEnd <= officeStart) return undefined;
  const office = url.slice(officeStart, officeEnd);
  if (office.includes("%") || office.includes("?") || office.includes("#")) return undefined;
  const presented = bearerValue(request.headers.get("authorization"));
  const key = presented === undefined ? undefined : verifier.known(presented);
  return key === undefined ? undefined : { key, office };
}
