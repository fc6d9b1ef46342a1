/**
 * `POST /v1/security/oauth2/token`: the AQC client-credentials token endpoint.
 *
 * @module
 */

import type { TokenLogEntry } from "./counters.ts";
import { oauthError } from "./errors.ts";
import { ConnectionResetError, failureResponse, sleep, takeFailure } from "./faults.ts";
import type { TokenResponderContext } from "./knobs.ts";
import { type SimRequest, type SimulatorState, toRequest } from "./state.ts";
import type { IssuedToken } from "./token_store.ts";

/** Path of the token endpoint. */
export const TOKEN_PATH = "/v1/security/oauth2/token";

const OFFICE_PATTERN = /^[A-Z]{3}[A-Z0-9]{6}$/;

/**
 * Answers one token request, counting it and applying the token knobs.
 *
 * @param req The request.
 * @param state The simulator state.
 * @returns The answer.
 * @throws {ConnectionResetError} When the connection must be dropped.
 */
export async function handleTokenRequest(
  req: SimRequest,
  state: SimulatorState,
): Promise<Response> {
  const form = readForm(req);
  const officeId = form.get("guest_office_id");
  const counters = state.counters;
  const entry: TokenLogEntry = {
    at: state.now(),
    clientId: form.get("client_id"),
    officeId,
    grantType: form.get("grant_type"),
    outcome: "pending",
  };
  let values = counters.values;
  values.tokenRequests++;
  counters.bump(values.tokenRequestsByOffice, officeId ?? "(none)");
  values.tokenRequestsInFlight++;
  values.maxTokenRequestsInFlight = Math.max(
    values.maxTokenRequestsInFlight,
    values.tokenRequestsInFlight,
  );
  counters.log(values.tokenLog, entry);
  try {
    const res = await answer(req, form, state, entry);
    entry.outcome = "answered";
    entry.status = res.status;
    // A reset may have replaced the counters while this request was pending.
    values = counters.values;
    counters.bump(values.tokenRequestsByStatus, String(res.status));
    return res;
  } catch (error) {
    entry.outcome = error instanceof ConnectionResetError ? "reset" : "aborted";
    throw error;
  } finally {
    counters.values.tokenRequestsInFlight--;
  }
}

async function answer(
  req: SimRequest,
  form: URLSearchParams,
  state: SimulatorState,
  entry: TokenLogEntry,
): Promise<Response> {
  await sleep(state.knobs.tokenLatencyMs, req.signal);
  const officeId = form.get("guest_office_id");

  const responder = state.knobs.tokenResponder;
  if (responder !== null) {
    const context: TokenResponderContext = {
      form,
      officeId,
      now: state.now(),
      issueToken: (options = {}) => {
        const token = issue(state, {
          clientId: form.get("client_id") ?? "",
          officeId: officeId ?? "",
          lifetimeSeconds: options.lifetimeSeconds,
        });
        entry.accessToken = token.accessToken;
        return { ...token };
      },
    };
    const custom = await responder(toRequest(req), context);
    if (custom !== undefined) {
      state.counters.values.tokenFaultsInjected++;
      return custom;
    }
  }

  const failure = state.knobs.tokenFailure;
  const { applies, exhausted } = takeFailure(failure, officeId ?? undefined);
  if (exhausted) state.knobs.tokenFailure = null;
  if (applies && failure !== null) {
    state.counters.values.tokenFaultsInjected++;
    return await failureResponse(failure, req.signal);
  }

  if (req.method !== "POST") {
    const res = oauthError(405, "invalid_request", "The token endpoint only accepts POST");
    res.headers.set("allow", "POST");
    return res;
  }
  const grantType = form.get("grant_type");
  if (!grantType) {
    return oauthError(400, "invalid_request", "Mandatory grant_type form parameter missing");
  }
  if (grantType !== "client_credentials") {
    return oauthError(
      400,
      "unsupported_grant_type",
      "Only client_credentials value is allowed for the body parameter grant_type",
    );
  }
  const clientId = form.get("client_id");
  const secret = form.get("client_secret");
  if (!clientId || !secret) {
    return oauthError(
      400,
      "invalid_request",
      "Mandatory client_id and client_secret form parameters missing",
    );
  }
  const client = Object.hasOwn(state.clients, clientId) ? state.clients[clientId] : undefined;
  if (client === undefined || client.secret !== secret) {
    return oauthError(401, "invalid_client", "Client credentials are invalid");
  }
  if (!officeId) {
    return oauthError(400, "invalid_request", "Mandatory guest_office_id form parameter missing");
  }
  if (!OFFICE_PATTERN.test(officeId)) {
    return oauthError(400, "invalid_request", "Invalid guest_office_id format");
  }
  if (
    client.offices !== undefined && !client.offices.includes("*") &&
    !client.offices.includes(officeId)
  ) {
    return oauthError(
      401,
      "unauthorized_client",
      "Client is not authorized to act for the requested guest office",
    );
  }

  const token = issue(state, { clientId, officeId });
  entry.accessToken = token.accessToken;
  const body: Record<string, unknown> = {
    type: "amadeusOAuth2Token",
    username: client.username ?? `${clientId}@example.com`,
    application_name: client.applicationName ?? "aqc-edge-simulator",
    client_id: clientId,
    token_type: "Bearer",
    access_token: token.accessToken,
    expires_in: state.knobs.tokenLifetimeSeconds,
    state: "approved",
    scope: "",
    guest_office_id: officeId,
  };
  for (const [key, value] of Object.entries(state.knobs.tokenBodyOverrides ?? {})) {
    if (value === null) delete body[key];
    else body[key] = value;
  }
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": state.knobs.contentType, "cache-control": "no-store" },
  });
}

function issue(
  state: SimulatorState,
  fields: { clientId: string; officeId: string; lifetimeSeconds?: number | undefined },
): IssuedToken {
  state.counters.values.tokensIssued++;
  return state.tokens.issue({
    clientId: fields.clientId,
    officeId: fields.officeId,
    now: state.now(),
    lifetimeSeconds: fields.lifetimeSeconds ?? state.knobs.tokenLifetimeSeconds,
  });
}

function readForm(req: SimRequest): URLSearchParams {
  const type = req.headers.get("content-type")?.toLowerCase() ?? "";
  // Like AQC, a body of any other type is not read, so its fields count as missing.
  if (!type.startsWith("application/x-www-form-urlencoded")) return new URLSearchParams();
  return new URLSearchParams(new TextDecoder().decode(req.body));
}
