/**
 * `createAqcWorker` / `createAqcEntrypoint` of `src/worker.ts`, on Deno: the module is bundled
 * like `deno task build:worker` does (not minified), its `cloudflare:workers` import replaced by
 * a stub `WorkerEntrypoint` (a class keeping `ctx` and `env`, as workerd's does), then imported.
 * The gateway behind it is the real one, talking to the AQC simulator; the telemetry is a fake
 * `GatewayTelemetry` that records which hooks the gateway called.
 *
 * workerd itself runs the default Worker in worker_test.ts and a composed entry with the real
 * OpenTelemetry SDK in worker_telemetry_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import type { GatewayTelemetry } from "../src/gateway/telemetry.ts";
import type { ExecutionContext } from "../src/types/cloudflare_workers.d.ts";
import { PROJECT_ROOT } from "./helpers/workerd.ts";

type WorkerModule = typeof import("../src/worker.ts");

const NCE = "NCE1A0955";
const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";
const STUB = "export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; " +
  "this.env = env; } }";

/** `src/worker.ts`, bundled, with the stub for `cloudflare:workers`. */
async function loadWorkerModule(): Promise<WorkerModule> {
  const dir = await Deno.makeTempDir({ prefix: "aqc-worker-factory-" });
  try {
    const bundle = `${dir}/worker.js`;
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--format",
        "esm",
        "--external",
        "cloudflare:workers",
        "--output",
        bundle,
        "src/worker.ts",
      ],
      cwd: PROJECT_ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const text = await Deno.readTextFile(bundle);
    const stubbed = text.replace(
      /from\s*"cloudflare:workers"/,
      `from "data:text/javascript,${encodeURIComponent(STUB)}"`,
    );
    assert.notEqual(stubbed, text, "the bundle imports cloudflare:workers");
    await Deno.writeTextFile(`${dir}/worker.mjs`, stubbed);
    return await import(new URL(`file://${dir}/worker.mjs`).href) as WorkerModule;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const mod = await loadWorkerModule();

/** A `GatewayTelemetry` that records the hooks called, passing everything through. */
function fakeTelemetry(): { telemetry: GatewayTelemetry; calls: string[] } {
  const calls: string[] = [];
  const telemetry: GatewayTelemetry = {
    async middleware(c, next) {
      calls.push(`middleware ${c.req.path}`);
      await next();
      calls.push(`answered ${c.res.status}`);
    },
    wrapFetch(transport) {
      calls.push("wrapFetch");
      return (input, init) => {
        calls.push("fetch");
        return transport(input, init);
      };
    },
    wrapStore(store) {
      calls.push("wrapStore");
      return store;
    },
    onToken(timing) {
      calls.push(`token ${timing.source}`);
    },
    onTokenEvent(event) {
      calls.push(`event ${event.type}`);
    },
    onGuardEvent(event) {
      calls.push(`guard ${event.type}`);
    },
    bind() {
      calls.push("bind");
    },
  };
  return { telemetry, calls };
}

/** An `ExecutionContext` whose `waitUntil` work the test awaits. */
function executionContext(): ExecutionContext & { settled(): Promise<unknown> } {
  const pending: Promise<unknown>[] = [];
  return {
    waitUntil: (promise) => void pending.push(promise),
    passThroughOnException: () => {},
    props: {},
    settled: () => Promise.allSettled(pending),
  };
}

/** A simulator and the bindings of a gateway in front of it. */
async function setUp() {
  const sim = await serveSimulator();
  const web = await generateGatewayKey("web", ["*"]);
  const env = {
    AQC_API_URL: sim.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_OFFICES: NCE,
    AQC_GATEWAY_KEYS: JSON.stringify([web.entry]),
  };
  const search = () =>
    new Request(`https://aqc/aqc/${NCE}${SEARCH}`, {
      headers: { authorization: `Bearer ${web.key}` },
    });
  return { sim, env, search };
}

Deno.test("createAqcWorker({ telemetry }): the gateway calls every hook of the telemetry given", async () => {
  const { sim, env, search } = await setUp();
  await using _ = sim;
  const { telemetry, calls } = fakeTelemetry();
  const worker = mod.createAqcWorker({ telemetry });
  const ctx = executionContext();
  const res = await worker.fetch(search(), env, ctx);
  assert.equal(res.status, 200, await res.clone().text());
  assert.ok((await res.json()).data.length > 0);
  await ctx.settled();
  for (
    const hook of [
      "wrapStore",
      "wrapFetch",
      "bind",
      `middleware /aqc/${NCE}/v2/shopping/flight-offers`,
      "event token_fetched",
      "token endpoint",
      "fetch",
      "answered 200",
    ]
  ) {
    assert.ok(calls.includes(hook), `${hook} in ${calls.join(", ")}`);
  }
  // Built once: a second request adds a request's hooks, not a second gateway.
  const before = calls.filter((call) => call === "bind").length;
  const again = await worker.fetch(search(), env, ctx);
  await again.body?.cancel();
  assert.equal(calls.filter((call) => call === "bind").length, before);
  assert.ok(calls.includes("token l1"));
  assert.equal(sim.simulator.counters.tokenRequests, 1);
});

Deno.test("createAqcWorker({ telemetry: (env) => … }): called once per isolate with the bindings; undefined = none", async () => {
  const { sim, env, search } = await setUp();
  await using _ = sim;
  const seen: unknown[] = [];
  const { telemetry, calls } = fakeTelemetry();
  const worker = mod.createAqcWorker({
    telemetry: (bindings) => {
      seen.push(bindings);
      return bindings.OTEL_ENABLED === "true" ? telemetry : undefined;
    },
  });
  const ctx = executionContext();
  for (let i = 0; i < 2; i++) {
    const res = await worker.fetch(search(), env, ctx);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  assert.deepEqual(seen, [env]);
  assert.equal(calls.length, 0, calls.join(", "));

  // Other bindings are another configuration: built again, and asked again.
  const traced = { ...env, OTEL_ENABLED: "true" };
  const res = await worker.fetch(search(), traced, ctx);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  await ctx.settled();
  assert.deepEqual(seen, [env, traced]);
  assert.ok(calls.includes("answered 200"), calls.join(", "));
});

Deno.test("createAqcWorker: a telemetry function that throws is logged by name, and the gateway serves without it", async () => {
  const { sim, env, search } = await setUp();
  await using _ = sim;
  const logged: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void logged.push(args.join(" "));
  try {
    const worker = mod.createAqcWorker({
      telemetry: () => {
        throw new RangeError("endpoint https://user:SECRET@otel.example is wrong");
      },
    });
    const res = await worker.fetch(search(), env, executionContext());
    assert.equal(res.status, 200, await res.clone().text());
    await res.body?.cancel();
  } finally {
    console.error = error;
  }
  assert.deepEqual(logged, [
    "aqc-edge: telemetry setup failed (RangeError); serving without telemetry",
  ]);
});

Deno.test("createAqcEntrypoint(worker): the entrypoint shares the worker's gateway and telemetry", async () => {
  const { sim, env, search } = await setUp();
  await using _ = sim;
  const { telemetry, calls } = fakeTelemetry();
  const worker = mod.createAqcWorker({ telemetry });
  const Entrypoint = mod.createAqcEntrypoint(worker);
  const ctx = executionContext();
  // workerd passes each invocation an env object of its own.
  const entrypoint = new Entrypoint(ctx, { ...env });
  assert.ok(entrypoint instanceof mod.AqcGateway);

  const first = await entrypoint.fetch(search());
  assert.equal(first.status, 200);
  await first.body?.cancel();
  assert.ok(calls.includes(`middleware /aqc/${NCE}/v2/shopping/flight-offers`), calls.join());
  const second = await worker.fetch(search(), env, ctx);
  assert.equal(second.status, 200);
  await second.body?.cancel();
  // One gateway: one bind, one token request for both.
  assert.equal(calls.filter((call) => call === "bind").length, 1);
  assert.equal(sim.simulator.counters.tokenRequests, 1);
  assert.equal((await entrypoint.health()).status, "ready");
  assert.deepEqual(
    (await entrypoint.prewarm()).map((result) => [result.officeId, result.ok, result.source]),
    [[NCE, true, "l1"]],
  );
  // A subclass keeps the worker of the class it extends.
  class Sub extends Entrypoint {}
  const sub = new Sub(ctx, { ...env });
  const third = await sub.fetch(search());
  assert.equal(third.status, 200);
  await third.body?.cancel();
  assert.equal(calls.filter((call) => call === "bind").length, 1);
  assert.equal(sim.simulator.counters.tokenRequests, 1);
  await ctx.settled();

  assert.throws(
    () => mod.createAqcEntrypoint({ fetch: worker.fetch, scheduled: worker.scheduled }),
    TypeError,
  );
});

Deno.test("the default export and AqcGateway share one gateway, without telemetry", async () => {
  const { sim, env, search } = await setUp();
  await using _ = sim;
  const ctx = executionContext();
  const res = await mod.default.fetch(search(), env, ctx);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const entrypoint = new mod.AqcGateway(ctx, { ...env });
  const again = await entrypoint.fetch(search());
  assert.equal(again.status, 200);
  await again.body?.cancel();
  assert.equal(sim.simulator.counters.tokenRequests, 1);
  // The composed worker of the other tests is another gateway: a new token request here.
  const other = mod.createAqcWorker();
  const third = await other.fetch(search(), env, ctx);
  await third.body?.cancel();
  assert.equal(sim.simulator.counters.tokenRequests, 2);
  await ctx.settled();
});
