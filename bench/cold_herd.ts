/**
 * Scenario 1, cold herd: 8 cold isolates × 100 concurrent calls on one office, at once.
 * Contenders, in a different order each round (all six orders over six rounds):
 *
 * - aqc-edge: Upstash L2 through the bridge, lease single-flight across isolates;
 * - the official Amadeus Node SDK, one client per isolate;
 * - a per-isolate cache (aqc-edge without L2).
 *
 * Measures token requests (the limit is 1) and time to first byte of each call from the
 * moment the herd starts. The simulator and Upstash run in their own processes.
 *
 * Run alone: `deno run <perms> bench/cold_herd.ts [--out file.json]`.
 *
 * @module
 */
import { generateTokenKey } from "../src/gateway/mod.ts";
import { DEFAULT_OFFICE_ID } from "../dev/simulator/mod.ts";
import { edgeIsolate, perIsolate, sdkIsolate, SEARCH } from "./lib/contenders.ts";
import { startSimulator, startUpstashProcess } from "./lib/services.ts";
import { median, rotation, summarize } from "./lib/stats.ts";
import { writeResult } from "./lib/output.ts";

/** Contender names of the cold herd. */
export type HerdContender = "aqc-edge" | "amadeus-sdk" | "per-isolate";

/** One contender's herd, one round. */
export interface HerdRound {
  /** Token requests the simulator received. */
  tokenRequests: number;
  /** Median time to first byte of the calls, ms from the herd's start. */
  ttfbP50: number;
  /** 99th percentile of the same. */
  ttfbP99: number;
  /** Until the last call's body was read, ms. */
  allDoneMs: number;
  /** Calls that failed or did not answer 200. */
  errors: number;
}

/** One contender's results: every round and the medians. */
export interface HerdContenderResult {
  /** The rounds in order. */
  rounds: HerdRound[];
  /** Median over rounds of each field. */
  median: HerdRound;
}

/** Result of the cold-herd scenario. */
export interface ColdHerdResult {
  /** Emulated isolates. */
  isolates: number;
  /** Concurrent calls per isolate. */
  callsPerIsolate: number;
  /** Simulated token endpoint latency, ms. */
  tokenLatencyMs: number;
  /** Measured rounds (one warm-up round before them is discarded). */
  rounds: number;
  /** Per contender. */
  contenders: Record<HerdContender, HerdContenderResult>;
}

const ISOLATES = 8;
const CALLS = 100;
const TOKEN_LATENCY_MS = 100;
const CONTENDERS: readonly HerdContender[] = ["aqc-edge", "amadeus-sdk", "per-isolate"];

interface CallTiming {
  firstByte: number[];
  errors: number;
}

async function herdEdge(
  isolates: ReturnType<typeof perIsolate>[],
  started: number,
): Promise<CallTiming> {
  const firstByte: number[] = [];
  let errors = 0;
  await Promise.all(isolates.flatMap(({ aqc }) =>
    Array.from({ length: CALLS }, async () => {
      try {
        const response = await aqc(DEFAULT_OFFICE_ID, SEARCH);
        firstByte.push(performance.now() - started);
        await response.arrayBuffer();
        if (response.status !== 200) errors++;
      } catch {
        errors++;
      }
    })
  ));
  return { firstByte, errors };
}

async function herdSdk(clients: ReturnType<typeof sdkIsolate>[], started: number) {
  let errors = 0;
  await Promise.all(clients.flatMap((client) =>
    Array.from({ length: CALLS }, async () => {
      try {
        const response = await client.search();
        if (response.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
    })
  ));
  const firstByte = clients.flatMap((client) => client.apiFirstBytes.map((t) => t - started));
  return { firstByte, errors };
}

/**
 * Runs the cold herd: a warm-up round, then `rounds` rounds of every contender.
 *
 * @param rounds Measured rounds; default 6.
 * @returns Token requests and times to first byte per contender.
 */
export async function runColdHerd(rounds = 6): Promise<ColdHerdResult> {
  await using simulator = await startSimulator({ tokenLatencyMs: TOKEN_LATENCY_MS });
  await using upstash = await startUpstashProcess();
  const perRound: Record<HerdContender, HerdRound[]> = {
    "aqc-edge": [],
    "amadeus-sdk": [],
    "per-isolate": [],
  };
  for (let round = 0; round <= rounds; round++) {
    for (const contender of rotation(CONTENDERS, round)) {
      await simulator.reset();
      await upstash.flush();
      const key = generateTokenKey();
      let timing: CallTiming;
      const started = performance.now();
      if (contender === "amadeus-sdk") {
        const clients = Array.from(
          { length: ISOLATES },
          () => sdkIsolate(simulator.url, DEFAULT_OFFICE_ID),
        );
        timing = await herdSdk(clients, started);
      } else {
        const isolates = Array.from(
          { length: ISOLATES },
          () =>
            contender === "aqc-edge"
              ? edgeIsolate(simulator.url, upstash, key)
              : perIsolate(simulator.url),
        );
        timing = await herdEdge(isolates, started);
        await Promise.all(isolates.map(({ tokens }) => tokens.whenIdle()));
      }
      const allDoneMs = performance.now() - started;
      const counters = await simulator.counters();
      const ttfb = summarize(timing.firstByte);
      const result: HerdRound = {
        tokenRequests: counters.tokenRequests,
        ttfbP50: ttfb.p50,
        ttfbP99: ttfb.p99,
        allDoneMs,
        errors: timing.errors + (ISOLATES * CALLS - timing.firstByte.length),
      };
      if (round > 0) perRound[contender].push(result);
      console.error(
        `cold herd ${round === 0 ? "warm-up" : `round ${round}`} ${contender}: ` +
          `${result.tokenRequests} token requests, TTFB p50 ${ttfb.p50.toFixed(1)} ms ` +
          `p99 ${ttfb.p99.toFixed(1)} ms, all done ${allDoneMs.toFixed(0)} ms, ` +
          `${result.errors} errors`,
      );
    }
  }
  const contenders = Object.fromEntries(CONTENDERS.map((name) => {
    const list = perRound[name];
    const med = (field: keyof HerdRound) => median(list.map((r) => r[field]));
    return [name, {
      rounds: list,
      median: {
        tokenRequests: med("tokenRequests"),
        ttfbP50: med("ttfbP50"),
        ttfbP99: med("ttfbP99"),
        allDoneMs: med("allDoneMs"),
        errors: med("errors"),
      },
    }];
  })) as Record<HerdContender, HerdContenderResult>;
  return {
    isolates: ISOLATES,
    callsPerIsolate: CALLS,
    tokenLatencyMs: TOKEN_LATENCY_MS,
    rounds,
    contenders,
  };
}

if (import.meta.main) await writeResult(await runColdHerd());
