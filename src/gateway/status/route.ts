/**
 * `GET /status` for a gateway key with `"admin": true`: JSON with `Accept: application/json`
 * (or `?format=json`), else the HTML page. Another key gets 403.
 *
 * @module
 */
import type { Context } from "@hono/hono";
import type { GatewayEnv } from "../create_gateway.ts";
import { problem } from "../problem.ts";
import { STATUS_CSP, statusPage } from "./page.ts";
import { statusSnapshot, type StatusSources } from "./snapshot.ts";

function wantsJson(c: Context): boolean {
  if (c.req.query("format") === "json") return true;
  const accept = c.req.header("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

/**
 * The handler of `GET /status` (after caller authentication).
 *
 * @param sources What the page shows.
 * @param now Epoch ms clock.
 * @returns The handler.
 */
export function statusRoute(
  sources: StatusSources,
  now: () => number = Date.now,
): (c: Context<GatewayEnv>) => Response {
  return (c) => {
    if (c.get("gatewayKey").admin !== true) {
      return problem("admin_required", "This gateway key may not read the status page");
    }
    const snapshot = statusSnapshot(sources, now());
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
    if (wantsJson(c)) {
      return new Response(JSON.stringify(snapshot), {
        headers: { ...headers, "content-type": "application/json" },
      });
    }
    return new Response(statusPage(snapshot), {
      headers: {
        ...headers,
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": STATUS_CSP,
        "referrer-policy": "no-referrer",
      },
    });
  };
}
