/**
 * workerd driver (runs in the Deno test process): starts `wrangler dev` with the library
 * fixture (`tests/fixtures/workerd/library`), whose module scope builds the store, manager,
 * AQC fetch and gateway, then
 *
 * 1. checks the module-scope objects from outside (#12 item 2): a token, L1 reuse, an
 *    authenticated call, a 401 replay, and a background refresh handed to `ctx.waitUntil`
 *    that completes after the response was sent;
 * 2. runs the shared scenario inside the Worker (`POST /scenario`), its gateway check calling
 *    the Worker's own module-scope gateway.
 *
 * @module
 */
import { serveSimulator } from "../../../dev/simulator/mod.ts";
import { startWrangler, type WranglerSession } from "../../helpers/workerd.ts";
import { redact, type RuntimeRun, scenarioEnv } from "../runner.ts";
import { check, type CheckResult, runCheck } from "../scenario.ts";

/** The fixture's wrangler config, relative to the project root. */
export const LIBRARY_CONFIG = "tests/fixtures/workerd/library/wrangler.toml";
/** The README's Workers snippet as a secondary worker. */
export const SNIPPET_CONFIG = "tests/fixtures/workerd/snippet/wrangler.toml";

/** The module-scope checks, in order (columns of the table beside the scenario's). */
export const MODULE_SCOPE_CHECKS = [
  "module_scope_token",
  "module_scope_call",
  "module_scope_replay_401",
  "module_scope_waituntil_refresh",
  "workers_snippet",
] as const;

/** The snippet's route, as the README shows it. */
const SNIPPET_PATH = "/flights?office=NCE1A0955&from=NCE&to=JFK&date=2026-12-20";

interface LibToken {
  digest: string;
  source: string;
  expiresAt: number;
  handed: number;
}

async function getJson<T>(session: WranglerSession, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(new URL(path, session.url), init);
  const text = await res.text();
  check(res.status === 200, `${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs both parts against a fresh simulator and `upstash`; never throws for a failed check. */
export async function runWorkerd(upstash: { url: string; token: string }): Promise<RuntimeRun> {
  await using served = await serveSimulator();
  const sim = served.simulator;
  const env = await scenarioEnv(served.url, upstash);
  const results: CheckResult[] = [];
  let session: WranglerSession | undefined;
  try {
    session = await startWrangler({
      configs: [LIBRARY_CONFIG, SNIPPET_CONFIG],
      vars: {
        AQC_API_URL: env.simUrl,
        AQC_CLIENT_ID: env.clientId,
        UPSTASH_REDIS_REST_URL: env.upstashUrl,
      },
      secrets: {
        AQC_CLIENT_SECRET: env.clientSecret,
        UPSTASH_REDIS_REST_TOKEN: env.upstashToken,
        AQC_TOKEN_KEY: env.tokenKey,
        AQC_GATEWAY_KEYS: env.gatewayKeysJson,
      },
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      runtime: "workerd",
      results: [{ name: "import", ok: false, detail: detail.slice(0, 500) }],
      output: redact(detail, env),
    };
  }
  const worker = session;
  try {
    sim.configure({ tokenLifetimeSeconds: 6 });
    let current: LibToken | undefined;
    results.push(
      await runCheck("module_scope_token", async () => {
        const spare = await getJson<{ built: number }>(worker, "/lib/spare");
        check(spare.built === 2, "MemoryTokenStore and createTokenManager not built");
        const first = await getJson<LibToken>(worker, "/lib/token");
        check(first.source === "endpoint", `first token from ${first.source}`);
        const again = await getJson<LibToken>(worker, "/lib/token");
        check(again.source === "l1" && again.digest === first.digest, "no L1 reuse");
        check(sim.counters.tokenRequests === 1, `${sim.counters.tokenRequests} token requests`);
        current = again;
      }),
    );
    results.push(
      await runCheck("module_scope_call", async () => {
        const call = await getJson<{ status: number; offers: number }>(worker, "/lib/call");
        check(call.status === 200 && call.offers > 0, `call answered ${call.status}`);
        check(sim.counters.tokenRequests === 1, "a token request for a warm call");
      }),
    );
    results.push(
      await runCheck("module_scope_replay_401", async () => {
        const before = { ...sim.counters };
        sim.configure({ apiFailure: { mode: "invalid_token", remaining: 1 } });
        const call = await getJson<{ status: number; offers: number }>(worker, "/lib/call");
        check(call.status === 200 && call.offers > 0, `replayed call answered ${call.status}`);
        check(sim.counters.apiRequests === before.apiRequests + 2, "not a call plus a replay");
        check(sim.counters.tokenRequests === before.tokenRequests + 1, "not one fresh token");
        const fresh = await getJson<LibToken>(worker, "/lib/token");
        check(fresh.digest !== current?.digest, "the rejected token is still served");
        current = fresh;
      }),
    );
    results.push(
      await runCheck("module_scope_waituntil_refresh", async () => {
        check(current !== undefined, "no token to refresh");
        const before = sim.counters.tokenRequests;
        // Due 3 s before expiry; still usable until 1.5 s before.
        await sleep(Math.max(0, current.expiresAt - 3_000 - Date.now()) + 200);
        const due = await getJson<LibToken>(worker, "/lib/token");
        check(due.digest === current.digest, "a due token was not served while refreshing");
        check(due.handed >= 1, "the background refresh was not handed to ctx.waitUntil");
        const deadline = Date.now() + 5_000;
        while (sim.counters.tokenRequests === before && Date.now() < deadline) await sleep(20);
        check(sim.counters.tokenRequests === before + 1, "no refresh after the response");
        let next = await getJson<LibToken>(worker, "/lib/token");
        // The refresh's store write may trail its token request by a round trip.
        for (let i = 0; next.digest === current.digest && i < 50; i++) {
          await sleep(20);
          next = await getJson<LibToken>(worker, "/lib/token");
        }
        check(next.digest !== current.digest, "the refreshed token is not served");
        check(next.source === "l1", `the refreshed token came from ${next.source}`);
        check(sim.counters.tokenRequests === before + 1, "more than one refresh");
      }),
    );
    sim.configure({ tokenLifetimeSeconds: null, apiFailure: null });
    results.push(
      await runCheck("workers_snippet", async () => {
        const before = sim.counters.tokenRequests;
        for (const round of [1, 2]) {
          const res = await fetch(new URL(`/snippet${SNIPPET_PATH}`, worker.url));
          const text = await res.text();
          check(res.status === 200, `round ${round}: ${res.status} ${text.slice(0, 200)}`);
          check((JSON.parse(text).data?.length ?? 0) > 0, `round ${round}: no offers`);
        }
        // Its first token may come from L2 (the module-scope manager shares it): at most one.
        check(sim.counters.tokenRequests - before <= 1, "the snippet did not reuse its token");
      }),
    );
    try {
      const scenario = await getJson<CheckResult[]>(worker, "/scenario", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...env, gatewayUrl: worker.url }),
      });
      results.unshift(...scenario);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      results.unshift({ name: "import", ok: false, detail: `POST /scenario: ${detail}` });
    }
    return { runtime: "workerd", results, output: redact(worker.output(), env) };
  } finally {
    await worker.stop();
  }
}
