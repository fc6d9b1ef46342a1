/**
 * The `/__sim/` control routes, so a process that only has the URL (a workerd harness,
 * a shell) can drive the simulator. A dev tool: no authentication.
 *
 * @module
 */

import { knobsToJson, validateKnobs } from "./knobs.ts";
import type { Simulator } from "./simulator.ts";
import type { SimRequest } from "./state.ts";

/** Prefix of the control routes. */
export const CONTROL_PREFIX = "/__sim/";

type Route = (req: SimRequest, sim: Simulator) => unknown;

const ROUTES: Record<string, { method: "GET" | "POST"; run: Route }> = {
  counters: { method: "GET", run: (_, sim) => sim.counters },
  tokens: { method: "GET", run: (_, sim) => sim.issuedTokens },
  knobs: { method: "GET", run: (_, sim) => knobsToJson(sim.knobs) },
  configure: {
    method: "POST",
    run: (req, sim) =>
      knobsToJson(sim.configure(validateKnobs(readJson(req), { allowResponder: false }))),
  },
  reset: { method: "POST", run: (_, sim) => (sim.reset(), { ok: true }) },
  "revoke-all": { method: "POST", run: (_, sim) => ({ revoked: sim.revokeAll() }) },
  revoke: { method: "POST", run: (req, sim) => ({ revoked: sim.revoke(accessToken(req)) }) },
  expire: { method: "POST", run: (req, sim) => ({ expired: sim.expire(accessToken(req)) }) },
  release: { method: "POST", run: (_, sim) => (sim.releasePending(), { ok: true }) },
};

/**
 * Answers one control request.
 *
 * @param req The request; its path starts with {@linkcode CONTROL_PREFIX}.
 * @param sim The simulator to drive.
 * @returns JSON: the result, or `{ error }` with 400, 404 or 405.
 */
export function handleControl(req: SimRequest, sim: Simulator): Response {
  const name = req.url.pathname.slice(CONTROL_PREFIX.length);
  const route = Object.hasOwn(ROUTES, name) ? ROUTES[name] : undefined;
  if (route === undefined) {
    return Response.json({
      error: `Unknown control route; known: ${Object.keys(ROUTES).join(", ")}`,
    }, { status: 404 });
  }
  if (req.method !== route.method) {
    return Response.json({ error: `Use ${route.method}` }, {
      status: 405,
      headers: { allow: route.method },
    });
  }
  try {
    return Response.json(route.run(req, sim));
  } catch (error) {
    if (error instanceof TypeError || error instanceof SyntaxError) {
      return Response.json({ error: error.message }, { status: 400 });
    }
    throw error;
  }
}

function readJson(req: SimRequest): unknown {
  return JSON.parse(new TextDecoder().decode(req.body));
}

function accessToken(req: SimRequest): string {
  const body = readJson(req);
  const token = typeof body === "object" && body !== null && "accessToken" in body
    ? body.accessToken
    : undefined;
  if (typeof token !== "string") throw new TypeError('Body must be {"accessToken":"…"}');
  return token;
}
