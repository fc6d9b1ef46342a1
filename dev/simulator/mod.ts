/**
 * The AQC simulator: an in-memory Amadeus Quick Connect with the client-credentials
 * token endpoint, flight APIs, an echo API, fault knobs and counters, for tests and
 * benchmarks of aqc-edge. A dev tool, never shipped.
 *
 * - {@linkcode createSimulator}: the Web-standard fetch handler plus its control API.
 * - {@linkcode serveSimulator}: the same over real HTTP on `127.0.0.1`.
 * - `/__sim/…` routes: the control API over HTTP (`counters`, `configure`, `reset`, …).
 *
 * @example
 * ```ts
 * import { DEFAULT_OFFICE_ID, serveSimulator } from "./mod.ts";
 *
 * await using served = await serveSimulator();
 * served.simulator.configure({ tokenFailure: { mode: "status", status: 503, remaining: 1 } });
 * // …exercise the token engine against served.url…
 * console.log(served.simulator.counters.tokenRequestsByOffice[DEFAULT_OFFICE_ID]);
 * ```
 *
 * @module
 */

export type { EchoBody } from "./apis.ts";
export { ECHO_PREFIX, parseBearer } from "./apis.ts";
export { CONTROL_PREFIX } from "./control.ts";
export type { ApiLogEntry, RequestOutcome, SimulatorCounters, TokenLogEntry } from "./counters.ts";
export { AMADEUS_CODES, AMADEUS_JSON } from "./errors.ts";
export { ConnectionResetError } from "./faults.ts";
export type {
  ApiFailure,
  FailureScope,
  HangFailure,
  InvalidClientFailure,
  InvalidTokenFailure,
  KnobsUpdate,
  MalformedFailure,
  RateLimitedFailure,
  ResetFailure,
  SimulatorKnobs,
  StatusFailure,
  TokenFailure,
  TokenResponder,
  TokenResponderContext,
} from "./knobs.ts";
export { DEFAULT_KNOBS } from "./knobs.ts";
export type { ServedSimulator, ServeSimulatorOptions } from "./serve.ts";
export { serveSimulator } from "./serve.ts";
export type { Simulator, SimulatorFetch, SimulatorOptions } from "./simulator.ts";
export {
  createSimulator,
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_OFFICE_ID,
} from "./simulator.ts";
export type { SimulatorClient } from "./state.ts";
export { TOKEN_PATH } from "./token_endpoint.ts";
export type { IssuedToken } from "./token_store.ts";
