/**
 * Resilience under load: the shared store (Upstash bridge, redis-server) fails mid-run.
 *
 * The gateway runs as it ships (`deno serve --parallel src/main.ts`, two isolates, Upstash
 * store through the local bridge); steady traffic crosses it for four offices while the
 * bridge is stopped, redis-server is stopped (and comes back empty) or frozen. Tokens live
 * 6 s, so every office refreshes during each outage. Zero failed calls, and L2 is written and
 * read again once it is back.
 *
 * @module
 */
import { type CallRecord, startLoad, summarize } from "./helpers/load.ts";
import { Scenario } from "./helpers/reliability.ts";
import {
  checkNoLeaks,
  readiness,
  readL2,
  sleep,
  type Stack,
  startStack,
  waitFor,
} from "./helpers/stack.ts";

const LIFETIME_S = 6;
/** Refresh 3 s before expiry (no jitter), never send in the last second. */
const TUNING = {
  AQC_REFRESH_AHEAD_S: "3",
  AQC_REFRESH_JITTER_S: "0",
  AQC_EXPIRY_SKEW_S: "1",
  AQC_STORE_TIMEOUT_MS: "300",
};
const OUTAGE_MS = 4_000;
const CONCURRENCY = 8;
/** No call may take longer: four store timeouts plus a token request, with slack for CI. */
const CALL_DEADLINE_MS = 3_000;

interface Outage {
  name: string;
  down(): Promise<void>;
  up(): Promise<void>;
}

/** Takes the store away under load, brings it back, and waits until L2 is used again. */
async function survive(
  stack: Stack,
  scenario: Scenario,
  outages: Outage[],
): Promise<CallRecord[]> {
  const load = startLoad({
    baseUrl: stack.gateway.url,
    key: stack.key,
    offices: stack.offices,
    concurrency: CONCURRENCY,
    pauseMs: 10,
    durationMs: 60_000,
    callTimeoutMs: 10_000,
  });
  try {
    await sleep(1_000);
    for (const outage of outages) {
      const before = stack.served.simulator.counters.tokensIssued;
      await outage.down();
      const downAt = stack.served.simulator.now();
      await sleep(300);
      const readyDown = await readiness(stack.gateway);
      await sleep(OUTAGE_MS - 300);
      const refreshedWhileDown = stack.served.simulator.counters.tokensIssued - before;
      await outage.up();
      const upAt = stack.served.simulator.now();
      scenario.check(
        `${outage.name}: /readyz answered 503 while down`,
        readyDown === 503,
        readyDown,
      );
      scenario.check(
        `${outage.name}: every office refreshed while the store was down`,
        stack.offices.every((o) => stack.issuedAt(o).some((t) => t > downAt && t < upAt)),
        `${refreshedWhileDown} token requests`,
      );
      // L2 used again: every office's current token is in Redis, written after the return,
      // and opens with the gateway's key (what a cold isolate would read).
      const started = performance.now();
      await waitFor(
        async () => {
          for (const office of stack.offices) {
            const token = await readL2(stack, office);
            const latest = stack.served.simulator.latestToken(office);
            if (token === undefined || token.accessToken !== latest?.accessToken) return false;
            if (token.issuedAt <= upAt) return false;
          }
          return true;
        },
        LIFETIME_S * 1_000 + 2_000,
        `${outage.name}: L2 written again`,
      ).then(
        () => scenario.check(`${outage.name}: L2 written and read again after the return`, true),
        (error) => scenario.check(`${outage.name}: L2 written and read again`, false, error),
      );
      const readyUp = await readiness(stack.gateway);
      scenario.check(`${outage.name}: /readyz answered 200 again`, readyUp === 200, readyUp);
      scenario.note(
        `${outage.name}: ${OUTAGE_MS / 1000} s down, ${refreshedWhileDown} refreshes without L2, ` +
          `L2 in use again ${Math.round(performance.now() - started)} ms after the return`,
      );
      scenario.figures.faults++;
    }
    await sleep(500);
  } finally {
    load.stop();
  }
  return await load.done;
}

async function finish(stack: Stack, scenario: Scenario, calls: CallRecord[], seconds: number) {
  const summary = summarize(calls);
  scenario.load(summary, {
    concurrency: CONCURRENCY,
    offices: stack.offices.length,
    isolates: stack.isolates,
    seconds,
  });
  scenario.figures.failedCalls = calls.filter((c) => c.status !== 200).length;
  scenario.figures.tokenRequests = stack.served.simulator.counters.tokenRequests;
  scenario.check(
    "zero failed calls",
    scenario.figures.failedCalls === 0,
    JSON.stringify(summary.byStatus),
  );
  scenario.check("no call hangs", summary.hung === 0, summary.hung);
  scenario.check(
    `every call answered within ${CALL_DEADLINE_MS} ms`,
    summary.maxMs <= CALL_DEADLINE_MS,
    `${summary.maxMs} ms`,
  );
  // Calls that had to wait for a token (L2 read or token request) instead of L1: expected to
  // be none while the refresh ahead of expiry works, store or no store.
  const waited = calls.filter((c) => c.tokenSource !== undefined && c.tokenSource !== "l1");
  scenario.note(
    `calls that waited for a token: ${waited.length}` +
      (waited.length === 0
        ? ""
        : ` (longest ${Math.max(...waited.map((c) => c.tokenMs ?? 0))} ms)`),
  );
  scenario.check(
    "at most a handful of calls waited for a token (store timeouts inside a 2 s window)",
    waited.length <= CONCURRENCY,
    waited.map((c) =>
      `${c.office} ${c.tokenSource} at ${(c.startMs / 1000).toFixed(1)} s ${c.tokenMs} ms`
    ).join(", "),
  );
  await checkNoLeaks(stack, scenario, calls);
  await scenario.finish();
}

Deno.test("resilience: the Upstash bridge stops mid-run and comes back — zero failed calls", async () => {
  const scenario = new Scenario(
    "store-bridge-stopped",
    "resilience",
    "Upstash REST bridge stopped mid-run, then restarted",
  );
  scenario.figures.injected = `bridge stopped ${OUTAGE_MS / 1000} s (connection refused)`;
  await using stack = await startStack({
    knobs: { tokenLifetimeSeconds: LIFETIME_S },
    env: TUNING,
  });
  const started = performance.now();
  const calls = await survive(stack, scenario, [{
    name: "bridge stopped",
    down: () => stack.upstash.bridge.stop(),
    up: () => stack.upstash.bridge.start(),
  }]);
  await finish(stack, scenario, calls, (performance.now() - started) / 1000);
});

Deno.test("resilience: redis-server stops (restarts empty) and hangs mid-run — zero failed calls", async () => {
  const scenario = new Scenario(
    "store-redis-stopped",
    "resilience",
    "redis-server stopped mid-run and restarted empty; then frozen (SIGSTOP) and resumed",
  );
  scenario.figures.injected =
    `redis-server stopped ${OUTAGE_MS / 1000} s (bridge answers 500), then frozen ` +
    `${OUTAGE_MS / 1000} s (every store call times out)`;
  await using stack = await startStack({
    knobs: { tokenLifetimeSeconds: LIFETIME_S },
    env: TUNING,
  });
  const started = performance.now();
  const calls = await survive(stack, scenario, [
    {
      name: "redis-server stopped",
      down: () => stack.upstash.redis.stop(),
      up: () => stack.upstash.redis.start(),
    },
    {
      name: "redis-server frozen",
      down: () => stack.upstash.redis.pause(),
      up: () => stack.upstash.redis.resume(),
    },
  ]);
  await finish(stack, scenario, calls, (performance.now() - started) / 1000);
});
