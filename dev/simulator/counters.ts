/**
 * What the simulator has seen, for assertions. Nothing here ever holds a client secret:
 * token requests are logged by client id and office only.
 *
 * @module
 */

/** How a logged request ended. */
export type RequestOutcome =
  /** Still being handled (latency or hang). */
  | "pending"
  /** A response was produced; see `status`. */
  | "answered"
  /** The simulator dropped the connection (`reset` fault, or released hang). */
  | "reset"
  /** The client gave up first. */
  | "aborted";

/** One token request, without its secret. */
export interface TokenLogEntry {
  /** Simulator clock when it arrived, epoch ms. */
  at: number;
  /** `client_id` as sent, or `null`. */
  clientId: string | null;
  /** `guest_office_id` as sent, or `null`. */
  officeId: string | null;
  /** `grant_type` as sent, or `null`. */
  grantType: string | null;
  /** How it ended. */
  outcome: RequestOutcome;
  /** HTTP status when answered. */
  status?: number;
  /** The token issued, when one was. */
  accessToken?: string;
}

/** One API request as it arrived. */
export interface ApiLogEntry {
  /** Simulator clock when it arrived, epoch ms. */
  at: number;
  /** HTTP method. */
  method: string;
  /** Full request URL. */
  url: string;
  /** Path without the query. */
  path: string;
  /** All request headers, lower-case names, duplicates joined with `", "`. */
  headers: Record<string, string>;
  /** The body decoded as UTF-8 (empty when none). */
  body: string;
  /** The bearer token presented, when the header was well-formed. */
  accessToken?: string;
  /** Office of the presented token, when the simulator knows the token. */
  officeId?: string;
  /** How it ended. */
  outcome: RequestOutcome;
  /** HTTP status when answered. */
  status?: number;
}

/** A snapshot of the counters; mutating it changes nothing in the simulator. */
export interface SimulatorCounters {
  /** Requests to the token endpoint (any method, any outcome). */
  tokenRequests: number;
  /** Token requests by `guest_office_id` as sent (`"(none)"` when absent). */
  tokenRequestsByOffice: Record<string, number>;
  /** Answered token requests by HTTP status. */
  tokenRequestsByStatus: Record<string, number>;
  /** Tokens issued (successful token answers and responder-issued tokens). */
  tokensIssued: number;
  /** Token requests being handled right now. */
  tokenRequestsInFlight: number;
  /** Highest `tokenRequestsInFlight` since creation or the last reset. */
  maxTokenRequestsInFlight: number;
  /** Token requests a `tokenFailure` knob or the responder answered. */
  tokenFaultsInjected: number;
  /** Requests to every other path except `/__sim/`. */
  apiRequests: number;
  /** Answered API requests by HTTP status. */
  apiRequestsByStatus: Record<string, number>;
  /** API requests by presented bearer token (well-formed headers only). */
  apiRequestsByToken: Record<string, number>;
  /** API requests by office of a known presented token. */
  apiRequestsByOffice: Record<string, number>;
  /** API requests being handled right now. */
  apiRequestsInFlight: number;
  /** Highest `apiRequestsInFlight` since creation or the last reset. */
  maxApiRequestsInFlight: number;
  /** API requests an `apiFailure` knob answered. */
  apiFaultsInjected: number;
  /** The last token requests, oldest first. */
  tokenLog: TokenLogEntry[];
  /** The last API requests, oldest first. */
  apiLog: ApiLogEntry[];
}

/** The live, mutable counters behind {@linkcode SimulatorCounters} snapshots. */
export class Counters {
  /** Live values; the logs are bounded by `logSize`. */
  values: SimulatorCounters = emptyCounters();
  readonly #logSize: number;

  /**
   * Creates zeroed counters.
   *
   * @param logSize How many log entries of each kind to keep.
   */
  constructor(logSize: number) {
    this.#logSize = logSize;
  }

  /**
   * Adds one to a keyed counter.
   *
   * @param record The counter map.
   * @param key The key.
   */
  bump(record: Record<string, number>, key: string): void {
    record[key] = (record[key] ?? 0) + 1;
  }

  /**
   * Appends a log entry, dropping the oldest beyond the bound.
   *
   * @param log `tokenLog` or `apiLog`.
   * @param entry The live entry; later updates to it show in snapshots.
   */
  log<T>(log: T[], entry: T): void {
    log.push(entry);
    if (log.length > this.#logSize) log.splice(0, log.length - this.#logSize);
  }

  /** Zeroes everything but the live in-flight gauges. */
  reset(): void {
    const fresh = emptyCounters();
    fresh.tokenRequestsInFlight = this.values.tokenRequestsInFlight;
    fresh.maxTokenRequestsInFlight = this.values.tokenRequestsInFlight;
    fresh.apiRequestsInFlight = this.values.apiRequestsInFlight;
    fresh.maxApiRequestsInFlight = this.values.apiRequestsInFlight;
    this.values = fresh;
  }

  /**
   * A deep copy of the counters.
   *
   * @returns The snapshot.
   */
  snapshot(): SimulatorCounters {
    return structuredClone(this.values);
  }
}

function emptyCounters(): SimulatorCounters {
  return {
    tokenRequests: 0,
    tokenRequestsByOffice: {},
    tokenRequestsByStatus: {},
    tokensIssued: 0,
    tokenRequestsInFlight: 0,
    maxTokenRequestsInFlight: 0,
    tokenFaultsInjected: 0,
    apiRequests: 0,
    apiRequestsByStatus: {},
    apiRequestsByToken: {},
    apiRequestsByOffice: {},
    apiRequestsInFlight: 0,
    maxApiRequestsInFlight: 0,
    apiFaultsInjected: 0,
    tokenLog: [],
    apiLog: [],
  };
}
