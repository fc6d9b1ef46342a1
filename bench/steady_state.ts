/**
 * Scenario 2, steady state over several token lifetimes (a short simulated lifetime): 8
 * isolates per contender send flight searches at a steady rate on their own office, the
 * three contenders at the same time (so they share the machine's noise):
 *
 * - aqc-edge (Upstash L2, refresh ahead in the background, single-flight across isolates);
 * - a per-isolate cache (aqc-edge without L2);
 * - the official Amadeus Node SDK (one client per isolate);
 * - the floor: a plain `fetch` with a fixed, long-lived token (no token handling at all).
 *
 * Measures token requests per office and per lifetime (limit: one per lifetime), Redis
 * commands per call (goal: 0 on warm calls), p50/p99 latency, and p99 in the rollover window
 * of each token (from 1 s before to 2 s after it was issued: every isolate has switched by
 * then, jitter and lease back-off included) against the p99 of the other (steady) calls.
 *
 * The refresh timing is the production default scaled to the short lifetime (refresh 300 s,
 * jitter 60 s and skew 30 s of 1,799 s).
 *
 * @module
 */
import { generateTokenKey } from "../src/gateway/mod.ts";
import { type EdgeIsolate, edgeIsolate, perIsolate, sdkIsolate, SEARCH } from "./lib/contenders.ts";
import { startSimulator, startUpstashProcess } from "./lib/services.ts";
import { percentile, summarize } from "./lib/stats.ts";
import { writeResult } from "./lib/output.ts";

/** Contender names of the steady state. */
export type SteadyContender = "aqc-edge" | "per-isolate" | "amadeus-sdk" | "fixed-token";

/** One contender's steady state. */
export interface SteadyContenderResult {
  /** Its office. */
  officeId: string;
  /** Calls made. */
  calls: number;
  /** Calls that failed or did not answer 200. */
  errors: number;
  /** Token requests for its office. */
  tokenRequests: number;
  /** Token requests after the cold start (the first second) per token lifetime (limit 1). */
  tokenRequestsPerLifetime: number;
  /** Redis commands per call, all calls (cold start and rollovers included). */
  redisCommandsPerCall: number;
  /** Redis commands per warm call: outside the cold start and the rollover windows. */
  redisCommandsPerWarmCall: number;
  /** Latency of all calls after the warm-up, ms. */
  p50: number;
  /** 99th percentile of the same. */
  p99: number;
  /** p99 of the calls outside every rollover window. */
  steadyP99: number;
  /** p99 of the calls in a rollover window. */
  rolloverP99: number;
  /** `rolloverP99 / steadyP99`. */
  rolloverRatio: number;
  /** Number of rollovers (token requests after the first second). */
  rollovers: number;
  /** Per second of the run: p99 latency, ms (`null` when no call). */
  p99BySecond: (number | null)[];
  /** Seconds into the run at which its office got a new token. */
  rolloverSeconds: number[];
}

/** Result of the steady-state scenario. */
export interface SteadyStateResult {
  /** Simulated token lifetime, s. */
  lifetimeSeconds: number;
  /** Run length, s. */
  durationSeconds: number;
  /** Isolates per contender. */
  isolates: number;
  /** Calls per second per isolate. */
  ratePerIsolate: number;
  /** Simulated token endpoint latency, ms. */
  tokenLatencyMs: number;
  /** Refresh lead in s (refresh ahead + mean jitter) used by aqc-edge. */
  refreshLeadSeconds: number;
  /** Per contender. */
  contenders: Record<SteadyContender, SteadyContenderResult>;
}

const LIFETIME_S = 10;
const DURATION_S = 60;
const ISOLATES = 8;
const RATE = 25;
const TOKEN_LATENCY_MS = 100;
const WARMUP_MS = 1_000;
const WINDOW_BEFORE_MS = 1_000;
const WINDOW_AFTER_MS = 2_000;
const OFFICES: Record<SteadyContender, string> = {
  "aqc-edge": "NCE1A0955",
  "per-isolate": "DELAI08AA",
  "amadeus-sdk": "PARAF08AA",
  "fixed-token": "MADAF08AA",
};
const CONTENDERS = Object.keys(OFFICES) as SteadyContender[];
/** Production timing (300 s ahead, 0–60 s jitter, 30 s skew of 1,799 s) scaled down. */
const SCALE = LIFETIME_S / 1799;
const TIMING = {
  refreshAheadSeconds: 300 * SCALE,
  refreshJitterSeconds: 60 * SCALE,
  expirySkewSeconds: 30 * SCALE,
};

interface Call {
  contender: SteadyContender;
  at: number;
  ms: number;
  ok: boolean;
}

/**
 * Runs the steady state.
 *
 * @param durationSeconds Run length; default 60 (six lifetimes).
 * @returns Per-contender token requests, Redis commands and latencies.
 */
export async function runSteadyState(durationSeconds = DURATION_S): Promise<SteadyStateResult> {
  await using simulator = await startSimulator({
    tokenLifetimeSeconds: LIFETIME_S,
    tokenLatencyMs: TOKEN_LATENCY_MS,
  });
  await using upstash = await startUpstashProcess();
  const key = generateTokenKey();
  const edge = Array.from(
    { length: ISOLATES },
    () => edgeIsolate(simulator.url, upstash, key, TIMING),
  );
  const local = Array.from({ length: ISOLATES }, () => perIsolate(simulator.url, TIMING));
  const sdk = Array.from(
    { length: ISOLATES },
    () => sdkIsolate(simulator.url, OFFICES["amadeus-sdk"]),
  );

  const fixedToken = await simulator.fixedToken(OFFICES["fixed-token"]);
  const fixedUrl = `${simulator.url}${SEARCH}`;
  const fixedHeaders = { authorization: `Bearer ${fixedToken}` };

  const calls: Call[] = [];
  const callEdge = (contender: SteadyContender, isolate: EdgeIsolate) => async () => {
    const at = Date.now();
    const started = performance.now();
    let ok = false;
    try {
      const response = await isolate.aqc(OFFICES[contender], SEARCH);
      await response.json();
      ok = response.status === 200;
    } catch {
      // Counted as an error.
    }
    calls.push({ contender, at, ms: performance.now() - started, ok });
  };
  const callSdk = (client: ReturnType<typeof sdkIsolate>) => async () => {
    const at = Date.now();
    const started = performance.now();
    let ok = false;
    try {
      ok = (await client.search()).statusCode === 200;
    } catch {
      // Counted as an error (a 401 rejects).
    }
    calls.push({ contender: "amadeus-sdk", at, ms: performance.now() - started, ok });
  };
  const callFixed = async () => {
    const at = Date.now();
    const started = performance.now();
    let ok = false;
    try {
      const response = await fetch(fixedUrl, { headers: fixedHeaders });
      await response.json();
      ok = response.status === 200;
    } catch {
      // Counted as an error.
    }
    calls.push({ contender: "fixed-token", at, ms: performance.now() - started, ok });
  };
  const senders = Array.from({ length: ISOLATES }, (_, i) => [
    callEdge("aqc-edge", edge[i]),
    callEdge("per-isolate", local[i]),
    callSdk(sdk[i]),
    callFixed,
  ]);

  const runStart = Date.now();
  const pending = new Set<Promise<void>>();
  const timers: ReturnType<typeof setTimeout>[] = [];
  const interval = 1000 / RATE;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < ISOLATES; i++) {
      // Staggered so that the isolates do not all fire in the same tick.
      timers.push(setTimeout(() => {
        let tick = i;
        timers.push(setInterval(() => {
          // Rotate which contender goes first in the tick.
          const order = senders[i];
          for (let k = 0; k < order.length; k++) {
            const send = order[(k + tick) % order.length];
            const call = send();
            pending.add(call);
            void call.finally(() => pending.delete(call));
          }
          tick++;
        }, interval));
      }, (interval / ISOLATES) * i));
    }
    timers.push(setTimeout(resolve, durationSeconds * 1000));
  });
  for (const timer of timers) clearInterval(timer);
  await Promise.all(pending);
  await Promise.all([...edge, ...local].map(({ tokens }) => tokens.whenIdle()));

  const issued = await simulator.tokens();
  const redisLog = await upstash.log();
  const counters = await simulator.counters();

  const contenders = Object.fromEntries(CONTENDERS.map((contender) => {
    const officeId = OFFICES[contender];
    const rollovers = issued
      .filter((t) => t.officeId === officeId && t.issuedAt >= runStart + WARMUP_MS)
      .map((t) => t.issuedAt)
      .sort((a, b) => a - b);
    const near = (at: number) =>
      rollovers.some((r) => at >= r - WINDOW_BEFORE_MS && at <= r + WINDOW_AFTER_MS);
    const own = calls.filter((c) => c.contender === contender);
    const measured = own.filter((c) => c.at >= runStart + WARMUP_MS);
    const steady = measured.filter((c) => !near(c.at)).map((c) => c.ms);
    const rolling = measured.filter((c) => near(c.at)).map((c) => c.ms);
    const all = summarize(measured.map((c) => c.ms));
    const steadyP99 = percentile(steady, 99);
    const rolloverP99 = percentile(rolling, 99);
    // Only aqc-edge uses Redis.
    const redis = contender === "aqc-edge" ? redisLog : [];
    const commands = redis.reduce((sum, [, n]) => sum + n, 0);
    const warmCommands = redis
      .filter(([at]) => at >= runStart + WARMUP_MS && !near(at))
      .reduce((sum, [, n]) => sum + n, 0);
    const seconds = Math.ceil(durationSeconds);
    const p99BySecond = Array.from({ length: seconds }, (_, s) => {
      const inSecond = own.filter((c) =>
        c.at >= runStart + s * 1000 && c.at < runStart + (s + 1) * 1000
      )
        .map((c) => c.ms);
      return inSecond.length === 0 ? null : percentile(inSecond, 99);
    });
    const tokenRequests = counters.tokenRequestsByOffice[officeId] ?? 0;
    const result: SteadyContenderResult = {
      officeId,
      calls: own.length,
      errors: own.filter((c) => !c.ok).length,
      tokenRequests,
      tokenRequestsPerLifetime: rollovers.length /
        ((durationSeconds - WARMUP_MS / 1000) / LIFETIME_S),
      redisCommandsPerCall: commands / own.length,
      redisCommandsPerWarmCall: warmCommands /
        Math.max(1, measured.filter((c) => !near(c.at)).length),
      p50: all.p50,
      p99: all.p99,
      steadyP99,
      rolloverP99,
      rolloverRatio: rolloverP99 / steadyP99,
      rollovers: rollovers.length,
      p99BySecond,
      rolloverSeconds: rollovers.map((r) => (r - runStart) / 1000),
    };
    console.error(
      `steady ${contender}: ${result.calls} calls, ${result.errors} errors, ` +
        `${tokenRequests} token requests (${
          result.tokenRequestsPerLifetime.toFixed(2)
        }/lifetime), ` +
        `Redis ${result.redisCommandsPerCall.toFixed(4)}/call, ` +
        `${result.redisCommandsPerWarmCall.toFixed(4)}/warm call, p50 ${all.p50.toFixed(2)} ms, ` +
        `p99 ${all.p99.toFixed(2)} ms, rollover p99 ${rolloverP99.toFixed(2)} vs steady ` +
        `${steadyP99.toFixed(2)} ms`,
    );
    return [contender, result];
  })) as Record<SteadyContender, SteadyContenderResult>;

  return {
    lifetimeSeconds: LIFETIME_S,
    durationSeconds,
    isolates: ISOLATES,
    ratePerIsolate: RATE,
    tokenLatencyMs: TOKEN_LATENCY_MS,
    refreshLeadSeconds: TIMING.refreshAheadSeconds + TIMING.refreshJitterSeconds / 2,
    contenders,
  };
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--duration");
  await writeResult(await runSteadyState(at === -1 ? undefined : Number(Deno.args[at + 1])));
}
