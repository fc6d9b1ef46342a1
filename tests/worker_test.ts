/**
 * The Cloudflare Workers entry (`src/worker.ts`) in the real workerd, through `wrangler dev`:
 * bundled by `deno bundle` (the root `wrangler.toml`'s `[build] command`), talking to the AQC
 * simulator and a local Upstash (redis-server + REST bridge) on loopback.
 *
 * Three wrangler sessions, run one after the other (each start costs a few seconds):
 *
 * 1. The root `wrangler.toml` as the primary worker: health, caller auth, cold single-flight,
 *    the cron prewarm, sealed tokens in Redis, warm calls.
 * 2. `examples/consumer_worker` as the primary, the gateway as a secondary: flight offers over
 *    the service binding (the gateway's new isolate finds the tokens in Upstash) and RPC
 *    `health()`.
 * 3. A probe fixture as the primary, with a good and a badly configured gateway as secondaries:
 *    RPC `prewarm()`, and `config_invalid` from both the entrypoint and the default export.
 *
 * Secondary gateways run the same `dist/worker.js` under configs written to a temporary
 * directory, with their bindings in a `.dev.vars` beside them: wrangler gives `--var` and
 * `--env-file` to the primary worker only.
 *
 * Run: `deno test --allow-net=127.0.0.1,localhost --allow-run --allow-env --allow-read
 * --allow-write=/tmp tests/worker_test.ts` (wrangler runs as a subprocess).
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey, generateTokenKey } from "../src/gateway/mod.ts";
import { rawScan, startUpstash } from "./helpers/redis.ts";
import {
  PROJECT_ROOT,
  startWrangler,
  type StartWranglerOptions,
  triggerScheduled,
  type WranglerSession,
} from "./helpers/workerd.ts";

const NCE = "NCE1A0955";
const DEL = "DELAI08AA";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";
const BUNDLE = `${PROJECT_ROOT}dist/worker.js`;

/** Problem details as the gateway answers them. */
interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** A `wrangler dev` session and how long it took to be ready. */
async function start(label: string, options: StartWranglerOptions): Promise<WranglerSession> {
  const started = performance.now();
  const session = await startWrangler(options);
  console.log(`wrangler dev (${label}) ready in ${Math.round(performance.now() - started)} ms`);
  return session;
}

async function gzipSize(path: string): Promise<{ raw: number; gzip: number }> {
  const bytes = await Deno.readFile(path);
  const gzipped = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return { raw: bytes.length, gzip: (await new Response(gzipped).arrayBuffer()).byteLength };
}

/**
 * Writes a config for a secondary gateway worker running the bundle built by session 1 (so no
 * `[build]` here), and its bindings as a `.dev.vars` beside it (mode 0600).
 */
async function writeGatewayConfig(
  dir: string,
  name: string,
  bindings: Record<string, string>,
): Promise<string> {
  const root = await Deno.readTextFile(`${PROJECT_ROOT}wrangler.toml`);
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(root)?.[1];
  assert.ok(compatibilityDate, "compatibility_date in wrangler.toml");
  await Deno.mkdir(dir, { recursive: true });
  const config = `${dir}/wrangler.toml`;
  await Deno.writeTextFile(
    config,
    [
      `name = "${name}"`,
      `main = ${JSON.stringify(BUNDLE)}`,
      `compatibility_date = "${compatibilityDate}"`,
      "no_bundle = true",
      "",
    ].join("\n"),
  );
  const lines = Object.entries(bindings).map(([key, value]) => {
    assert.ok(!/['\r\n$]/.test(value), `${key}: no quote, line break or $ in .dev.vars`);
    return `${key}='${value}'\n`;
  });
  await Deno.writeTextFile(`${dir}/.dev.vars`, lines.join(""), { mode: 0o600 });
  return config;
}

async function call(
  session: WranglerSession,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(new URL(path, session.url), init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function getJson(session: WranglerSession, path: string, init?: RequestInit) {
  const res = await call(session, path, init);
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.text}\n${session.output()}`);
  return JSON.parse(res.text);
}

function problemOf(res: { status: number; headers: Headers; text: string }): Problem {
  assert.equal(res.headers.get("content-type"), "application/problem+json", res.text);
  return JSON.parse(res.text);
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The `desc` of the `token` metric of `Server-Timing`: `l1`, `l2` or `endpoint`. */
function tokenSource(headers: Headers): string | undefined {
  return /(?:^|,\s*)token;[^,]*desc="?([a-z0-9]+)/.exec(headers.get("server-timing") ?? "")?.[1];
}

Deno.test("workerd: the aqc-edge Worker with Upstash, its cron, a consumer and RPC", async (t) => {
  await using sim = await serveSimulator();
  await using upstash = await startUpstash();
  const web = await generateGatewayKey("web", ["*"]);
  const consumer = await generateGatewayKey("consumer", [NCE]);
  const vars = {
    AQC_API_URL: sim.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_OFFICES: `${NCE},${DEL}`,
    UPSTASH_REDIS_REST_URL: upstash.url,
  };
  const secrets = {
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    UPSTASH_REDIS_REST_TOKEN: upstash.token,
    AQC_TOKEN_KEY: generateTokenKey(),
    AQC_GATEWAY_KEYS: JSON.stringify([web.entry, consumer.entry]),
  };
  const asWeb = { headers: { authorization: `Bearer ${web.key}` } };
  const tokensByOffice = () => sim.simulator.counters.tokenRequestsByOffice;
  const tmp = await Deno.makeTempDir({ prefix: "aqc-worker-test-" });

  try {
    await t.step(
      "gateway worker (root wrangler.toml): auth, single-flight, cron, sealed L2",
      async (t) => {
        const session = await start("gateway", { configs: ["wrangler.toml"], vars, secrets });
        try {
          const size = await gzipSize(BUNDLE);
          console.log(
            `dist/worker.js: ${(size.raw / 1024).toFixed(1)} KiB minified, ` +
              `${(size.gzip / 1024).toFixed(1)} KiB gzip`,
          );

          await t.step("healthz and readyz (store upstash)", async () => {
            assert.deepEqual(await getJson(session, "/healthz"), { status: "ok" });
            const ready = await getJson(session, "/readyz");
            assert.equal(ready.status, "ready");
            assert.equal(ready.store, "upstash");
          });

          await t.step(
            "401 without or with a wrong key, 403 outside the key's offices",
            async () => {
              const none = await call(session, `/aqc/${NCE}${SEARCH}`);
              assert.equal(none.status, 401);
              assert.equal(problemOf(none).code, "unauthorized");
              const wrong = await call(session, `/aqc/${NCE}${SEARCH}`, {
                headers: { authorization: "Bearer aqcgw_not-a-key" },
              });
              assert.equal(wrong.status, 401);
              const forbidden = await call(session, `/aqc/${DEL}${SEARCH}`, {
                headers: { authorization: `Bearer ${consumer.key}` },
              });
              assert.equal(forbidden.status, 403);
              assert.equal(problemOf(forbidden).code, "office_forbidden");
              assert.equal(sim.simulator.counters.tokenRequests, 0);
            },
          );

          await t.step("concurrent cold calls make one token request", async () => {
            const answers = await Promise.all(
              Array.from({ length: 8 }, () => call(session, `/aqc/${NCE}${SEARCH}`, asWeb)),
            );
            for (const answer of answers) {
              assert.equal(answer.status, 200, answer.text);
              assert.ok(JSON.parse(answer.text).data.length > 0);
            }
            assert.ok(answers.some((a) => tokenSource(a.headers) === "endpoint"));
            assert.deepEqual(tokensByOffice(), { [NCE]: 1 });
            assert.equal(sim.simulator.counters.maxTokenRequestsInFlight, 1);
          });

          await t.step("scheduled prewarm fetches the other office before any call", async () => {
            await triggerScheduled(session, "*/4 * * * *");
            await until("the prewarm token request", () => tokensByOffice()[DEL] === 1);
            // NCE1A0955 was fresh: the prewarm found it and made no request.
            assert.deepEqual(tokensByOffice(), { [NCE]: 1, [DEL]: 1 });
            assert.equal(sim.simulator.counters.apiRequestsByOffice[DEL], undefined);
          });

          await t.step("Redis holds sealed tokens only", async () => {
            // The prewarm's store write may trail its token request by a round trip.
            let entries = await rawScan(upstash.redis.port, { match: "aqc:v2:tok:*" });
            for (let i = 0; entries.length < 2 && i < 50; i++) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              entries = await rawScan(upstash.redis.port, { match: "aqc:v2:tok:*" });
            }
            assert.equal(entries.length, 2, JSON.stringify(entries.map((e) => e.key)));
            const clear = [
              NCE,
              DEL,
              DEFAULT_CLIENT_ID,
              DEFAULT_CLIENT_SECRET,
              ...sim.simulator.issuedTokens.map((token) => token.accessToken),
            ];
            for (const entry of await rawScan(upstash.redis.port)) {
              for (const text of clear) {
                assert.ok(!entry.key.includes(text), `${text} in key ${entry.key}`);
                assert.ok(!entry.text.includes(text), `${text} in value of ${entry.key}`);
              }
            }
            for (const entry of entries) {
              assert.match(entry.key, /^aqc:v2:tok:[A-Za-z0-9_-]{43}$/);
              assert.ok(entry.ttlMs > 0, `${entry.key} has a TTL`);
            }
          });

          await t.step(
            "warm calls, sequential and concurrent, two offices: no token request",
            async () => {
              for (const office of [NCE, DEL, NCE, DEL]) {
                const res = await call(session, `/aqc/${office}${SEARCH}`, asWeb);
                assert.equal(res.status, 200, res.text);
                assert.equal(tokenSource(res.headers), "l1");
              }
              const answers = await Promise.all(
                Array.from(
                  { length: 12 },
                  (_, i) => call(session, `/aqc/${i % 2 ? DEL : NCE}${SEARCH}`, asWeb),
                ),
              );
              for (const answer of answers) assert.equal(answer.status, 200, answer.text);
              assert.deepEqual(tokensByOffice(), { [NCE]: 1, [DEL]: 1 });
              assert.equal(sim.simulator.counters.apiRequestsByOffice[DEL], 8);
            },
          );

          await t.step("no token in the logs", () => {
            const output = session.output();
            for (const token of sim.simulator.issuedTokens) {
              assert.ok(!output.includes(token.accessToken));
            }
          });
        } finally {
          await session.stop();
        }
      },
    );

    await t.step("consumer worker over the service binding (HTTP and RPC health)", async () => {
      const gateway = await writeGatewayConfig(`${tmp}/gateway`, "aqc-edge", {
        ...vars,
        ...secrets,
      });
      const session = await start("consumer + gateway", {
        configs: ["examples/consumer_worker/wrangler.toml", gateway],
        secrets: { AQC_GATEWAY_KEY: consumer.key },
      });
      try {
        const query =
          "originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";
        const offers = await getJson(session, `/search?${query}`);
        assert.ok(offers.data.length > 0, JSON.stringify(offers));
        const answers = await Promise.all(
          Array.from({ length: 6 }, () => call(session, `/search?${query}`)),
        );
        for (const answer of answers) assert.equal(answer.status, 200, answer.text);
        // AQC's own validation errors pass through the gateway and the consumer unchanged.
        const invalid = await call(session, "/search?originLocationCode=NCE");
        assert.equal(invalid.status, 400);
        assert.ok(Array.isArray(JSON.parse(invalid.text).errors), invalid.text);
        // A new isolate: the tokens came from Upstash, sealed by session 1.
        assert.deepEqual(tokensByOffice(), { [NCE]: 1, [DEL]: 1 });

        const health = await getJson(session, "/health");
        assert.equal(health.status, "ready");
        assert.equal(health.store, "upstash");
        assert.deepEqual(health.offices, [NCE, DEL]);
      } finally {
        await session.stop();
      }
    });

    await t.step("RPC prewarm, and a bad configuration over the binding", async () => {
      const good = await writeGatewayConfig(`${tmp}/good`, "aqc-edge", { ...vars, ...secrets });
      const broken = await writeGatewayConfig(`${tmp}/broken`, "aqc-edge-broken", {
        AQC_API_URL: "ftp://not-loopback.example",
        AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
        AQC_OFFICES: "NOT-AN-OFFICE",
        AQC_TOKEN_KEY: "short-VALUE-THAT-MUST-NOT-LEAK",
        AQC_GATEWAY_KEYS: secrets.AQC_GATEWAY_KEYS,
      });
      const session = await start("probe + 2 gateways", {
        configs: ["tests/fixtures/workerd/aqc_rpc/wrangler.toml", good, broken],
      });
      try {
        const post = (body: unknown) => ({ method: "POST", body: JSON.stringify(body) });

        const all = await getJson(session, "/good/prewarm", post(null));
        assert.deepEqual(
          all.result.map((r: { officeId: string; ok: boolean; source: string }) => [
            r.officeId,
            r.ok,
            r.source,
          ]),
          [[NCE, true, "l2"], [DEL, true, "l2"]],
        );
        const mixed = await getJson(
          session,
          "/good/prewarm",
          post([" nce1a0955", "LONBA2100", "x"]),
        );
        assert.deepEqual(
          mixed.result.map((r: { officeId: string; ok: boolean; code?: string }) => [
            r.officeId,
            r.ok,
            r.code,
          ]),
          [[NCE, true, undefined], ["LONBA2100", false, "office_forbidden"], [
            "x",
            false,
            "office_invalid",
          ]],
        );
        const notArray = await getJson(session, "/good/prewarm", post("NCE1A0955"));
        assert.match(notArray.error.message, /array/);
        assert.equal((await getJson(session, "/good/health")).result.status, "ready");
        assert.deepEqual(tokensByOffice(), { [NCE]: 1, [DEL]: 1 });

        const invalid = [
          "AQC_API_URL",
          "AQC_CLIENT_SECRET",
          "AQC_OFFICES",
          "AQC_TOKEN_KEY",
        ];
        for (const path of ["/broken/entrypoint/healthz", `/broken/default/aqc/${NCE}${SEARCH}`]) {
          const res = await call(session, path, asWeb);
          assert.equal(res.status, 500, res.text);
          const problem = problemOf(res);
          assert.equal(problem.code, "config_invalid");
          for (const name of invalid) assert.ok(problem.detail.includes(name), problem.detail);
          for (const value of ["not-loopback", "NOT-AN-OFFICE", "MUST-NOT-LEAK"]) {
            assert.ok(!res.text.includes(value), `${value} in ${res.text}`);
          }
        }
        assert.deepEqual(await getJson(session, "/broken/health"), {
          result: { status: "config_invalid", invalid },
        });
        const refused = await getJson(session, "/broken/prewarm", post(null));
        assert.match(refused.error.message, /AQC_CLIENT_SECRET/);

        // Both entrypoints share one instance: the problem lines are logged once.
        await until("the worker logs", () => session.output().includes("AQC_CLIENT_SECRET is"));
        const logged = session.output().split("aqc-edge: AQC_CLIENT_SECRET is required").length - 1;
        assert.equal(logged, 1, session.output());
        assert.ok(!session.output().includes("MUST-NOT-LEAK"));
      } finally {
        await session.stop();
      }
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
