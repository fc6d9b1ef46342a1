/**
 * Proves the workerd harness (`tests/helpers/workerd.ts`) on the fixture workers in
 * `tests/fixtures/workerd/`: a Hono gateway bundled by `deno bundle` through a `[build] command`,
 * and a consumer calling it over service bindings (HTTP and RPC).
 *
 * Run: `deno test --allow-all tests/workerd_harness_test.ts`.
 */
import assert from "node:assert/strict";
import {
  isRunning,
  processTree,
  startWrangler,
  triggerScheduled,
  type WranglerSession,
} from "./helpers/workerd.ts";

const GATEWAY = "tests/fixtures/workerd/gateway/wrangler.toml";
const CONSUMER = "tests/fixtures/workerd/consumer/wrangler.toml";

/** A secret with characters that dotenv or a shell would otherwise interpret. */
const SECRET = 'p$HOME-#not-a-comment "dq" \\n ${X}';

/** One request received by the loopback server. */
interface Seen {
  method: string;
  path: string;
  from: string | null;
}

/** A Deno.serve server on 127.0.0.1 standing in for the AQC simulator or the Upstash bridge. */
function startLoopback(): { url: string; seen: Seen[]; server: Deno.HttpServer<Deno.NetAddr> } {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      from: req.headers.get("x-from"),
    });
    return new Response(`pong ${url.pathname}`);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, server };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function getJson(session: WranglerSession, path: string): Promise<unknown> {
  const res = await fetch(new URL(path, session.url));
  const body = await res.text();
  assert.equal(res.status, 200, `GET ${path}: ${body}\n${session.output()}`);
  return JSON.parse(body);
}

Deno.test("workerd: hono gateway serves fetch, vars, secrets, loopback fetch and scheduled", async (t) => {
  const loopback = startLoopback();
  const started = performance.now();
  const session = await startWrangler({
    configs: [GATEWAY],
    vars: { GREETING: "hello from --var", LOOPBACK_URL: loopback.url },
    secrets: { API_SECRET: SECRET },
  });
  const startMs = Math.round(performance.now() - started);
  try {
    await t.step("fetch reaches the bundled Hono app", async () => {
      assert.match(session.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(await getJson(session, "/healthz"), { ok: true, worker: "gateway" });
      assert.deepEqual(await getJson(session, "/hello/ana"), {
        hello: "ana",
        greeting: "hello from --var",
      });
    });

    await t.step("secrets arrive verbatim and are not printed", async () => {
      assert.deepEqual(await getJson(session, "/secret-digest"), {
        sha256: await sha256Hex(SECRET),
      });
      assert.ok(!session.output().includes(SECRET));
    });

    await t.step("fetch from workerd to a loopback server of the test process", async () => {
      for (const host of ["127.0.0.1", "localhost"]) {
        const target = `http://${host}:${loopback.server.addr.port}/ping`;
        assert.deepEqual(await getJson(session, `/loopback?url=${encodeURIComponent(target)}`), {
          status: 200,
          body: "pong /ping",
        });
      }
      assert.deepEqual(loopback.seen.filter((s) => s.path === "/ping").map((s) => s.from), [
        "workerd",
        "workerd",
      ]);
    });

    await t.step("scheduled handler runs, with its waitUntil work", async () => {
      const time = Date.UTC(2026, 0, 1, 0, 5);
      await triggerScheduled(session, "*/5 * * * *", time);
      assert.deepEqual(await getJson(session, "/scheduled-runs"), [
        { cron: "*/5 * * * *", scheduledTime: time },
      ]);
      assert.ok(
        loopback.seen.some((s) => s.method === "POST" && s.path.startsWith("/scheduled?cron=")),
        JSON.stringify(loopback.seen),
      );
    });
  } finally {
    await session.stop();
    await loopback.server.shutdown();
  }
  console.log(`wrangler dev (gateway) ready in ${startMs} ms`);
});

Deno.test("workerd: consumer calls the gateway over service bindings (fetch and RPC)", async (t) => {
  const session = await startWrangler({
    configs: [CONSUMER, GATEWAY],
    vars: { GREETING: "from --var, for the primary only" },
    secrets: { API_SECRET: SECRET },
  });
  try {
    await t.step("the first config is the primary worker", async () => {
      assert.deepEqual(await getJson(session, "/"), { ok: true, worker: "consumer" });
    });

    await t.step("env.AQC.fetch reaches the named entrypoint AqcGateway", async () => {
      assert.deepEqual(await getJson(session, "/svc/fetch/hello/bo"), {
        hello: "bo",
        greeting: "hello from wrangler.toml",
      });
    });

    await t.step("env.AQC_DEFAULT.fetch reaches the default export", async () => {
      assert.deepEqual(await getJson(session, "/svc/default/hello/cy"), {
        hello: "cy",
        greeting: "hello from wrangler.toml",
      });
    });

    await t.step("env.AQC.describe() is an RPC call", async () => {
      assert.deepEqual(await getJson(session, "/svc/rpc/NCE1A0955"), {
        office: "NCE1A0955",
        greeting: "hello from wrangler.toml",
        via: "rpc",
      });
    });

    await t.step("secrets reach a secondary worker through [secrets] required", async () => {
      assert.deepEqual(await getJson(session, "/svc/fetch/secret-digest"), {
        sha256: await sha256Hex(SECRET),
      });
    });
  } finally {
    await session.stop();
  }
});

Deno.test("workerd: stop() ends wrangler and every workerd it started", async () => {
  const session = await startWrangler({ configs: [GATEWAY] });
  const tree = await processTree(session.pid);
  assert.ok(tree.length >= 2, `expected wrangler and workerd below the shim, got ${tree}`);
  await session.stop();
  await session.stop(); // idempotent
  const running = [];
  for (const pid of [session.pid, ...tree]) if (await isRunning(pid)) running.push(pid);
  assert.deepEqual(running, []);
  await assert.rejects(fetch(`${session.url}/healthz`));
});

Deno.test("workerd: startWrangler rejects with wrangler's output when it cannot start", async () => {
  await assert.rejects(
    startWrangler({ configs: ["tests/fixtures/workerd/missing/wrangler.toml"] }),
    (error: Error) => {
      assert.match(error.message, /wrangler exited with code \d+ before it was ready/);
      assert.match(error.message, /--- wrangler output ---/);
      return true;
    },
  );
});
