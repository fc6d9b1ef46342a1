/**
 * A load driver for tests: steady concurrent traffic through the gateway over several offices,
 * recording every call's status, latency and token timing. Bounded in count and in time, and
 * loopback only, so a test can never flood anything but itself.
 *
 * @example Two seconds of traffic, then the figures
 * ```ts ignore
 * import { startLoad, summarize } from "./load.ts";
 *
 * const load = startLoad({ baseUrl: gateway.url, key, offices: ["NCE1A0955"], durationMs: 2_000 });
 * const calls = await load.done;
 * console.log(summarize(calls)); // { calls: 412, failed: 0, p50Ms: 2.1, p99Ms: 9.8, … }
 * ```
 *
 * @module
 */

/** Largest number of calls one run may make, whatever the options say. */
export const MAX_CALLS = 200_000;
/** Longest a run may last, whatever the options say. */
export const MAX_DURATION_MS = 120_000;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Options of {@linkcode startLoad}. */
export interface LoadOptions {
  /** The gateway's base URL; must be loopback (`127.0.0.1`, `localhost`, `[::1]`). */
  baseUrl: string;
  /** The gateway key sent as `Authorization: Bearer <key>`. */
  key: string;
  /** Offices the calls cycle through (changeable mid-run with `setOffices`). */
  offices: readonly string[];
  /** Concurrent callers; default 8. */
  concurrency?: number;
  /** Pause of each caller between two calls, in ms; default 10 (keeps the rate steady). */
  pauseMs?: number;
  /** Stop starting calls after this long, in ms (capped at {@linkcode MAX_DURATION_MS}). */
  durationMs: number;
  /** Stop after this many calls (capped at {@linkcode MAX_CALLS}); default the cap. */
  maxCalls?: number;
  /**
   * A call still unanswered after this long is abandoned and recorded as `hung`; default
   * 20,000 ms. Set it well above every deadline the gateway should hold.
   */
  callTimeoutMs?: number;
  /** Path below `/aqc/{office}`; default `/v1/echo/load` (the simulator's echo API). */
  path?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** One call as the caller saw it. */
export interface CallRecord {
  /** Sequence number, from 0, in start order. */
  seq: number;
  /** The office called. */
  office: string;
  /** Start time in ms since the run started. */
  startMs: number;
  /** Time to the full answer (body read) in ms. */
  latencyMs: number;
  /** HTTP status; 0 when no answer came (network error or `hung`). */
  status: number;
  /** Why no answer came. */
  error?: "hung" | "network";
  /** The token source from `Server-Timing` (`l1`, `l2`, `endpoint`). */
  tokenSource?: string;
  /** The time spent obtaining the token, from `Server-Timing`, in ms. */
  tokenMs?: number;
  /** Whether a 401 made the gateway replay with a fresh token. */
  replayed?: boolean;
  /** `code` of a problem+json answer. */
  code?: string;
  /** `Retry-After` of the answer. */
  retryAfter?: string;
  /** The bearer the upstream received, from the echo API's answer. */
  upstreamToken?: string;
  /** The office of that token, from the echo API's answer. */
  upstreamOffice?: string;
  /** The body of a non-2xx answer (first 2 KB), for leak scans. */
  body?: string;
}

/** A run in progress. */
export interface LoadRun {
  /** Every call so far (a live array; complete once `done` resolves). */
  readonly calls: readonly CallRecord[];
  /** ms since the run started. */
  elapsed(): number;
  /** Calls after this take their office from `offices`. */
  setOffices(offices: readonly string[]): void;
  /** Starts no more calls; `done` resolves when the calls in flight end. */
  stop(): void;
  /** Every call, once the run is over. */
  readonly done: Promise<CallRecord[]>;
}

/** Figures of a set of calls. */
export interface LoadSummary {
  /** Calls made. */
  calls: number;
  /** Calls answered 2xx. */
  ok: number;
  /** Calls answered 5xx or not answered at all. */
  failed: number;
  /** Calls not answered within the call timeout. */
  hung: number;
  /** Calls by status (`0` = no answer). */
  byStatus: Record<string, number>;
  /** Median latency in ms. */
  p50Ms: number;
  /** 99th percentile latency in ms. */
  p99Ms: number;
  /** Slowest call in ms. */
  maxMs: number;
  /** Calls per second over the span of the calls. */
  rps: number;
}

/**
 * Starts steady traffic: `concurrency` callers, each calling, reading the whole answer, pausing
 * `pauseMs`, and calling again, cycling through the offices, until the duration or the call
 * budget is spent or `stop()` is called.
 *
 * @param options Where, who, how much and how long.
 * @returns The run; await `done` for every call.
 * @throws {Error} When `baseUrl` is not a loopback address.
 */
export function startLoad(options: LoadOptions): LoadRun {
  const base = new URL(options.baseUrl);
  if (!LOOPBACK.has(base.hostname)) {
    throw new Error(`The load driver only calls loopback addresses, not ${base.hostname}`);
  }
  const origin = base.origin;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 8, 256));
  const pauseMs = Math.max(0, options.pauseMs ?? 10);
  const durationMs = Math.min(Math.max(0, options.durationMs), MAX_DURATION_MS);
  const maxCalls = Math.min(options.maxCalls ?? MAX_CALLS, MAX_CALLS);
  const callTimeoutMs = options.callTimeoutMs ?? 20_000;
  const path = options.path ?? "/v1/echo/load";
  let offices = [...options.offices];
  if (offices.length === 0) throw new Error("At least one office is needed");

  const started = performance.now();
  const calls: CallRecord[] = [];
  let stopped = false;
  let seq = 0;
  const stopController = new AbortController();
  const stop = () => {
    stopped = true;
    clearTimeout(stopTimer);
    stopController.abort();
  };
  const stopTimer = setTimeout(stop, durationMs);

  const one = async (): Promise<void> => {
    const n = seq++;
    const office = offices[n % offices.length];
    const record: CallRecord = {
      seq: n,
      office,
      startMs: performance.now() - started,
      latencyMs: 0,
      status: 0,
    };
    calls.push(record);
    const t0 = performance.now();
    const timeout = AbortSignal.timeout(callTimeoutMs);
    try {
      const response = await fetch(`${origin}/aqc/${office}${path}`, {
        headers: { ...options.headers, authorization: `Bearer ${options.key}` },
        signal: timeout,
      });
      const text = await response.text();
      record.latencyMs = performance.now() - t0;
      record.status = response.status;
      readTiming(record, response.headers.get("server-timing"));
      const retryAfter = response.headers.get("retry-after");
      if (retryAfter !== null) record.retryAfter = retryAfter;
      readBody(record, response.headers.get("content-type"), text);
    } catch {
      record.latencyMs = performance.now() - t0;
      record.error = timeout.aborted ? "hung" : "network";
    }
  };

  const caller = async (): Promise<void> => {
    while (!stopped && seq < maxCalls) {
      await one();
      if (pauseMs > 0 && !stopped) await pause(pauseMs, stopController.signal);
    }
  };

  const done = Promise.all(Array.from({ length: concurrency }, caller)).then(() => {
    stop();
    return calls;
  });
  return {
    calls,
    elapsed: () => performance.now() - started,
    setOffices(next) {
      if (next.length === 0) throw new Error("At least one office is needed");
      offices = [...next];
    },
    stop,
    done,
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function readTiming(record: CallRecord, header: string | null): void {
  if (header === null) return;
  for (const metric of header.split(",")) {
    const [name, ...params] = metric.trim().split(";");
    if (name !== "token" && name !== "token-replay") continue;
    if (name === "token-replay") record.replayed = true;
    for (const param of params) {
      const [key, value] = param.trim().split("=");
      if (name === "token" && key === "dur") record.tokenMs = Number(value);
      if (name === "token" && key === "desc") record.tokenSource = value.replaceAll('"', "");
    }
  }
}

function readBody(record: CallRecord, contentType: string | null, text: string): void {
  if (record.status >= 200 && record.status < 300) {
    if (!contentType?.startsWith("application/json")) return;
    try {
      const echo = JSON.parse(text) as { headers?: Record<string, string>; office?: string };
      const bearer = /^Bearer (.+)$/.exec(echo.headers?.authorization ?? "");
      if (bearer !== null) record.upstreamToken = bearer[1];
      if (typeof echo.office === "string") record.upstreamOffice = echo.office;
    } catch {
      // Not the echo API.
    }
    return;
  }
  record.body = text.slice(0, 2048);
  if (contentType === "application/problem+json") {
    try {
      const code = (JSON.parse(text) as { code?: unknown }).code;
      if (typeof code === "string") record.code = code;
    } catch {
      // Not JSON after all; the body is kept for the leak scan.
    }
  }
}

/**
 * The value at percentile `p` (0–100) of `values`, nearest-rank; 0 for no values.
 *
 * @param values The samples (not modified).
 * @param p The percentile.
 * @returns The sample at that rank.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Figures of a set of calls: counts by status, failures (5xx or no answer), latency
 * percentiles and the rate.
 *
 * @param calls The calls.
 * @returns The summary, latencies rounded to 0.1 ms.
 */
export function summarize(calls: readonly CallRecord[]): LoadSummary {
  const byStatus: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let hung = 0;
  for (const call of calls) {
    byStatus[call.status] = (byStatus[call.status] ?? 0) + 1;
    if (call.status >= 200 && call.status < 300) ok++;
    if (call.status === 0 || call.status >= 500) failed++;
    if (call.error === "hung") hung++;
  }
  const latencies = calls.map((c) => c.latencyMs);
  let first = Infinity;
  let last = -Infinity;
  let max = 0;
  for (const call of calls) {
    first = Math.min(first, call.startMs);
    last = Math.max(last, call.startMs + call.latencyMs);
    max = Math.max(max, call.latencyMs);
  }
  const span = calls.length === 0 ? 0 : last - first;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    calls: calls.length,
    ok,
    failed,
    hung,
    byStatus,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(max),
    rps: span > 0 ? Math.round((calls.length / span) * 1000) : 0,
  };
}
