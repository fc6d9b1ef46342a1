/**
 * The whole stack on loopback for resilience and security tests: the AQC simulator, a
 * redis-server behind the Upstash bridge, and the gateway as it ships (`deno serve src/main.ts`,
 * optionally with several isolates) using the Upstash store.
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { type StoredToken, UpstashTokenStore } from "../../src/mod.ts";
import { generateGatewayKey, generateTokenKey } from "../../src/gateway/mod.ts";
import { tokenKeyId } from "../../src/token/key.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type KnobsUpdate,
  type ServedSimulator,
  serveSimulator,
  type TokenResponder,
} from "../../dev/simulator/mod.ts";
import { failureResponse } from "../../dev/simulator/faults.ts";
import type { TokenFailure } from "../../dev/simulator/knobs.ts";
import { type ServedMain, serveMain } from "./deno_serve.ts";
import type { CallRecord } from "./load.ts";
import type { Scenario } from "./reliability.ts";
import { findLeaks, type Haystack, type Needle } from "./leaks.ts";
import { type LocalUpstash, rawScan, startUpstash } from "./redis.ts";

/** Four offices the scenarios call. */
export const OFFICES = ["NCE1A0955", "DELAI08AA", "PARAF08AA", "MUCLH08AA"] as const;

/** Options of {@linkcode startStack}. */
export interface StackOptions {
  /** `AQC_OFFICES` (prewarmed at start-up); `null` leaves it unset (any office). */
  offices?: readonly string[] | null;
  /** Extra gateway environment (tuning variables). */
  env?: Record<string, string>;
  /** Simulator knobs at start. */
  knobs?: KnobsUpdate;
  /** Gateway isolates (`deno serve --parallel`); default 2. */
  isolates?: number;
  /** Wait until every prewarmed office has a token before returning; default `true`. */
  waitForPrewarm?: boolean;
}

/** A running stack; dispose it to stop everything it started. */
export interface Stack {
  /** The AQC simulator. */
  readonly served: ServedSimulator;
  /** redis-server and the bridge. */
  readonly upstash: LocalUpstash;
  /** The gateway under test. */
  readonly gateway: ServedMain;
  /** Its environment. */
  readonly env: Record<string, string>;
  /** A gateway key for every office. */
  readonly key: string;
  /** One key per office, bound to that office only. */
  readonly officeKeys: Readonly<Record<string, string>>;
  /** The offices served (`AQC_OFFICES`), or every office called. */
  readonly offices: readonly string[];
  /** Isolates of the gateway. */
  readonly isolates: number;
  /** Starts another gateway process on the same simulator and Redis (stopped at dispose). */
  startGateway(env?: Record<string, string>, isolates?: number): Promise<ServedMain>;
  /** Every secret of the run: client secret, gateway keys, store secrets, issued tokens. */
  secrets(): Needle[];
  /** Everything every gateway process printed. */
  outputs(): Haystack[];
  /** Token requests of an office that the simulator answered 200, in order. */
  issuedAt(office: string): number[];
  /** Stops everything. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Polls `condition` every 25 ms until it holds.
 *
 * @param condition What to wait for.
 * @param timeoutMs How long at most.
 * @param what Named in the error.
 * @throws {Error} When it does not hold in time.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what}`);
    await sleep(25);
  }
}

/**
 * Resolves after `ms`.
 *
 * @param ms Milliseconds.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts the simulator, Redis with the bridge, and the gateway process with the Upstash store.
 *
 * @param options Offices, tuning, knobs, isolates.
 * @returns The stack.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const offices = options.offices === null ? null : [...(options.offices ?? OFFICES)];
  const isolates = options.isolates ?? 2;
  const served = await serveSimulator({
    logSize: 5_000,
    knobs: { tokenLifetimeSeconds: 60, ...options.knobs },
  });
  let upstash: LocalUpstash | undefined;
  const gateways: ServedMain[] = [];
  const stop = async () => {
    for (const gateway of gateways) await gateway.stop();
    await upstash?.stop();
    await served.close();
  };
  try {
    upstash = await startUpstash();
    const wide = await generateGatewayKey("load", ["*"]);
    const officeKeys: Record<string, string> = {};
    const entries = [wide.entry];
    for (const office of OFFICES) {
      const narrow = await generateGatewayKey(`only-${office.toLowerCase()}`, [office]);
      officeKeys[office] = narrow.key;
      entries.push(narrow.entry);
    }
    const tokenKey = generateTokenKey();
    const env: Record<string, string> = {
      AQC_API_URL: served.url,
      AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
      AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      AQC_GATEWAY_KEYS: JSON.stringify(entries),
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      AQC_TOKEN_KEY: tokenKey,
      ...(offices === null ? {} : { AQC_OFFICES: offices.join(",") }),
      ...options.env,
    };
    const startGateway = async (extra: Record<string, string> = {}, n = isolates) => {
      const gateway = await serveMain({ ...env, ...extra }, { parallel: n });
      gateways.push(gateway);
      return gateway;
    };
    const gateway = await startGateway();
    const stack: Stack = {
      served,
      upstash,
      gateway,
      env,
      key: wide.key,
      officeKeys,
      offices: offices ?? [...OFFICES],
      isolates,
      startGateway,
      secrets: () => [
        { name: "client secret", value: DEFAULT_CLIENT_SECRET },
        { name: "gateway key", value: wide.key },
        ...Object.entries(officeKeys).map(([office, value]) => ({
          name: `gateway key of ${office}`,
          value,
        })),
        { name: "Upstash token", value: upstash!.token },
        { name: "AQC_TOKEN_KEY", value: tokenKey },
        ...served.simulator.issuedTokens.map((t, i) => ({
          name: `token #${i} of ${t.officeId}`,
          value: t.accessToken,
        })),
      ],
      outputs: () => gateways.map((g, i) => ({ where: `gateway #${i} output`, text: g.output() })),
      issuedAt: (office) =>
        served.simulator.counters.tokenLog
          .filter((e) => e.officeId === office && e.status === 200)
          .map((e) => e.at),
      [Symbol.asyncDispose]: stop,
    };
    if (offices !== null && options.waitForPrewarm !== false) {
      await waitFor(
        () => offices.every((o) => stack.issuedAt(o).length > 0),
        10_000,
        "prewarm of every office",
      );
      // Every isolate prewarms; the ones that lost the lease adopt the token from L2. Calls
      // until every office answers from L1 several times in a row, so the run starts warm.
      await warmUp(stack);
    }
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

async function warmUp(stack: Stack): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (const office of stack.offices) {
    let streak = 0;
    while (streak < 4 * stack.isolates && performance.now() < deadline) {
      const response = await fetch(`${stack.gateway.url}/aqc/${office}/v1/echo/warm-up`, {
        headers: { authorization: `Bearer ${stack.key}` },
      });
      await response.body?.cancel();
      const l1 = /desc="l1"/.test(response.headers.get("server-timing") ?? "");
      streak = response.status === 200 && l1 ? streak + 1 : 0;
    }
  }
}

/** A fault of one office's token requests (the simulator's failure modes). */
export type OfficeFault = TokenFailure;

/** Per-office token endpoint faults; see {@linkcode officeFaults}. */
export interface OfficeFaults {
  /**
   * Sets or clears an office's fault. A list is served in turn, one per request.
   *
   * @param office The office.
   * @param fault The fault(s), or `null` to answer normally again.
   */
  set(office: string, fault: OfficeFault | readonly OfficeFault[] | null): void;
  /** Faulty answers served (or hangs started) per office. */
  readonly answered: Readonly<Record<string, number>>;
  /** Simulator times (epoch ms) of each office's faulty answers. */
  readonly times: Readonly<Record<string, readonly number[]>>;
}

/**
 * Per-office token endpoint faults, on top of the simulator's single `tokenFailure` knob:
 * installs a token responder that answers each office's requests with its own fault (or
 * normally when it has none). Hangs end when the client gives up.
 *
 * @param served The simulator.
 * @returns The fault switchboard.
 */
export function officeFaults(served: ServedSimulator): OfficeFaults {
  const faults = new Map<string, readonly OfficeFault[]>();
  const answered: Record<string, number> = {};
  const times: Record<string, number[]> = {};
  const responder: TokenResponder = async (request, context) => {
    const office = context.officeId ?? "";
    const list = faults.get(office);
    if (list === undefined) return undefined;
    const n = answered[office] ?? 0;
    answered[office] = n + 1;
    (times[office] ??= []).push(context.now);
    return await failureResponse(list[n % list.length], request.signal);
  };
  served.simulator.configure({ tokenResponder: responder });
  return {
    set(office, fault) {
      if (fault === null) faults.delete(office);
      else faults.set(office, Array.isArray(fault) ? fault : [fault as OfficeFault]);
    },
    answered,
    times,
  };
}

/**
 * Every key of the local Redis as search haystacks (key and value).
 *
 * @param upstash The local Upstash.
 * @returns One haystack per key, and the keys.
 */
export async function redisHaystacks(upstash: LocalUpstash): Promise<Haystack[]> {
  const entries = await rawScan(upstash.redis.port);
  return entries.map((e) => ({ where: `redis ${e.key}`, text: `${e.key} ${e.text}` }));
}

/**
 * The resident set size of a process in bytes, read from `/proc/<pid>/status` through `cat`
 * (Deno's own file API needs full permissions for `/proc`; the tests may only run programs).
 *
 * @param pid The process.
 * @returns Bytes, or `undefined` where `/proc` is not available.
 */
export async function rssBytes(pid: number): Promise<number | undefined> {
  try {
    const { stdout, success } = await new Deno.Command("cat", {
      args: [`/proc/${pid}/status`],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!success) return undefined;
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(new TextDecoder().decode(stdout));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Reads an office's token straight from the shared L2 (through the bridge, opened with the
 * gateway's `AQC_TOKEN_KEY`), as a cold isolate would.
 *
 * @param stack The stack.
 * @param office The office.
 * @returns The stored token, or `undefined` on a miss.
 */
export async function readL2(stack: Stack, office: string): Promise<StoredToken | undefined> {
  const store = new UpstashTokenStore({
    redis: new Redis({
      url: stack.upstash.url,
      token: stack.upstash.token,
      retry: false,
      enableTelemetry: false,
      signal: () => AbortSignal.timeout(1_000),
    }),
    encryptionKey: stack.env.AQC_TOKEN_KEY,
  });
  const id = await tokenKeyId(
    { apiUrl: stack.served.url, clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET },
    office,
  );
  return (await store.read(id)).token;
}

/**
 * The gateway's readiness (`GET /readyz`): whether it reaches its store.
 *
 * @param gateway The gateway.
 * @returns The status code.
 */
export async function readiness(gateway: ServedMain): Promise<number> {
  const response = await fetch(`${gateway.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  await response.body?.cancel();
  return response.status;
}

/**
 * Scans for leaks: every gateway output line and every error answer for the client secret,
 * every issued token, every gateway key and the store secrets; raw Redis for those plus
 * office ids and the client id, in every encoding.
 *
 * @param stack The stack (Redis must be up).
 * @param calls The calls whose error answers are scanned.
 * @returns One line per hit, and how many texts were scanned.
 */
export async function scanForLeaks(
  stack: Stack,
  calls: readonly CallRecord[],
): Promise<{ hits: string[]; scanned: number }> {
  const secrets = stack.secrets();
  const texts: Haystack[] = [
    ...stack.outputs(),
    ...calls.filter((c) => c.body !== undefined).map((c) => ({
      where: `answer #${c.seq} (${c.status})`,
      text: c.body!,
    })),
  ];
  const stored = await redisHaystacks(stack.upstash);
  const hits = [
    ...findLeaks(texts, secrets),
    ...findLeaks(stored, [
      ...secrets,
      ...[...new Set([...OFFICES, ...stack.offices])].map((office) => ({
        name: `office id ${office}`,
        value: office,
      })),
      { name: "client id", value: DEFAULT_CLIENT_ID },
    ]),
  ];
  return { hits, scanned: texts.length + stored.length };
}

/**
 * Runs {@linkcode scanForLeaks}, records the hits as the scenario's `leaks` figure and
 * checks that there are none: the closing step every resilience scenario shares.
 *
 * @param stack The stack (Redis must be up).
 * @param scenario The scenario to record into.
 * @param calls The calls whose error answers are scanned.
 */
export async function checkNoLeaks(
  stack: Stack,
  scenario: Scenario,
  calls: readonly CallRecord[],
): Promise<void> {
  const leaks = await scanForLeaks(stack, calls);
  scenario.figures.leaks = leaks.hits.length;
  scenario.check(
    "no secret, token or office id leaked",
    leaks.hits.length === 0,
    leaks.hits.join("; "),
  );
}
