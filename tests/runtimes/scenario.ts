/**
 * The consumer scenario of the cross-runtime suite, written once and run unchanged on every
 * runtime (like Hono's `runtime-tests/` and oauth4webapi's `tap/`). It is plain Web-standard
 * code: no Deno, Node or Bun API, no npm import, so it bundles for any of them. Each runtime's
 * driver hands it the library (the `.` and `./gateway` entries as that runtime loads them), a
 * Redis client factory and a way to serve a handler, and prints the returned results as JSON.
 *
 * The simulator is driven over its `/__sim/` control routes, because a driver in another
 * process (or in workerd) only has its URL.
 *
 * @module
 */
import type * as Library from "../../src/mod.ts";
import type * as Gateway from "../../src/gateway/mod.ts";
import type { UpstashRedisClient } from "../../src/store/upstash_store.ts";

/** The checks, in the order they run; the runner prints one column per check. */
export const CHECKS = [
  "import",
  "token",
  "l1_reuse",
  "aqc_call",
  "replay_401",
  "background_refresh",
  "l2_shared",
  "gateway_http",
] as const;

/** One check's name. */
export type CheckName = typeof CHECKS[number];

/** One check's outcome. */
export interface CheckResult {
  /** The check (a {@link CHECKS} name, or a runtime-specific one). */
  name: string;
  /** Whether it passed. */
  ok: boolean;
  /** Why it failed, or a short note. */
  detail?: string;
}

/** Everything the scenario needs to reach the simulator, Upstash and the gateway. */
export interface ScenarioEnv {
  /** The simulator's base URL (the AQC API root). */
  simUrl: string;
  /** Client id and secret the simulator accepts. */
  clientId: string;
  clientSecret: string;
  /** The local Upstash REST bridge. */
  upstashUrl: string;
  upstashToken: string;
  /** base64url of 32 bytes, for `UpstashTokenStore` and `AQC_TOKEN_KEY`. */
  tokenKey: string;
  /** A gateway key and the `AQC_GATEWAY_KEYS` JSON that admits it. */
  gatewayKey: string;
  gatewayKeysJson: string;
}

/** A handler served over HTTP by the runtime's own server. */
export interface ServedHandler {
  /** Base URL, no trailing slash. */
  url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** What a runtime driver provides. */
export interface Platform {
  /** The `.` entry as this runtime loaded it. */
  lib: typeof Library;
  /** The `./gateway` entry as this runtime loaded it. */
  gateway: typeof Gateway;
  /** A new `@upstash/redis` client for the bridge (each call: a separate client). */
  createRedis(url: string, token: string): UpstashRedisClient;
  /** Serves `handler` on 127.0.0.1 with the runtime's own server. */
  serve?(handler: (request: Request) => Response | Promise<Response>): Promise<ServedHandler>;
  /**
   * Instead of `serve`: where the runtime already serves a gateway built from the same
   * environment (workerd: the Worker's own module-scope gateway, reached over HTTP).
   */
  gatewayUrl?: string;
}

/** The office every check uses. */
export const OFFICE = "NCE1A0955";
/** A second office, so the L2 check starts from an empty L2. */
export const L2_OFFICE = "DELAI08AA";
/** An AQC call the simulator answers with offers. */
export const SEARCH =
  "/v2/shopping/flight-offers?originLocationCode=NCE&destinationLocationCode=JFK&departureDate=2026-12-20&adults=1";

/** The part of the simulator's counters the checks read. */
interface Counters {
  tokenRequests: number;
  apiRequests: number;
}

/** Thrown by {@link check}; its message becomes the result's detail. */
class CheckFailed extends Error {}

/** Fails the current check with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

/** The simulator's counters, over HTTP. */
export async function counters(simUrl: string): Promise<Counters> {
  const res = await fetch(`${simUrl}/__sim/counters`);
  check(res.ok, `simulator counters answered ${res.status}`);
  const body = await res.json() as Counters;
  return { tokenRequests: body.tokenRequests, apiRequests: body.apiRequests };
}

/** Sets simulator knobs over HTTP (`null` restores a default). */
export async function configure(simUrl: string, knobs: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${simUrl}/__sim/configure`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(knobs),
  });
  check(res.ok, `simulator configure answered ${res.status}: ${await res.text()}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `body` as check `name`; never throws. */
export async function runCheck(name: string, body: () => Promise<void>): Promise<CheckResult> {
  try {
    await body();
    return { name, ok: true };
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { name, ok: false, detail: detail.slice(0, 500) };
  }
}

/**
 * The gateway half of `gateway_http`, given where the gateway is served: health, an
 * authenticated proxied AQC call, and a refused anonymous one. Also run by the workerd
 * driver against the Worker's own URL.
 */
export async function checkGatewayOverHttp(baseUrl: string, env: ScenarioEnv): Promise<void> {
  const health = await fetch(`${baseUrl}/healthz`);
  await health.body?.cancel();
  check(health.status === 200, `GET /healthz answered ${health.status}`);

  const anonymous = await fetch(`${baseUrl}/aqc/${OFFICE}${SEARCH}`);
  const anonymousBody = await anonymous.text();
  check(anonymous.status === 401, `anonymous call answered ${anonymous.status}`);
  check(
    anonymous.headers.get("content-type") === "application/problem+json" &&
      JSON.parse(anonymousBody).code === "unauthorized",
    `anonymous call answered ${anonymousBody.slice(0, 200)}`,
  );

  const before = await counters(env.simUrl);
  const proxied = await fetch(`${baseUrl}/aqc/${OFFICE}${SEARCH}`, {
    headers: { authorization: `Bearer ${env.gatewayKey}` },
  });
  const text = await proxied.text();
  check(proxied.status === 200, `proxied call answered ${proxied.status}: ${text.slice(0, 200)}`);
  check(Array.isArray(JSON.parse(text).data), "proxied call returned no offers");
  check(
    /\b(l1|l2|endpoint)\b/.test(proxied.headers.get("server-timing") ?? ""),
    "proxied call carries no Server-Timing token source",
  );
  const after = await counters(env.simUrl);
  check(after.apiRequests === before.apiRequests + 1, "proxied call did not reach AQC once");
}

/** The scenario: every {@link CHECKS} entry, in order, each reported even when others fail. */
export async function runScenario(platform: Platform, env: ScenarioEnv): Promise<CheckResult[]> {
  const { lib, gateway } = platform;
  const credentials = {
    apiUrl: env.simUrl,
    clientId: env.clientId,
    clientSecret: env.clientSecret,
  };
  const results: CheckResult[] = [];
  const run = async (name: CheckName, body: () => Promise<void>): Promise<void> => {
    results.push(await runCheck(name, body));
  };
  const tokens = new lib.TokenManager({ credentials });
  const aqc = lib.createAqcFetch({ tokens });
  let first: Library.AccessToken | undefined;

  await run("import", async () => {
    for (const name of ["TokenManager", "createAqcFetch", "UpstashTokenStore", "AqcError"]) {
      check(typeof (lib as Record<string, unknown>)[name] === "function", `. lacks ${name}`);
    }
    for (const name of ["createGateway", "loadConfig"]) {
      check(typeof (gateway as Record<string, unknown>)[name] === "function", `gateway: ${name}`);
    }
    const error = new lib.AqcError("office_invalid", "Office id is invalid");
    check(lib.isAqcError(error) && error.code === "office_invalid", "AqcError is not typed");
    await Promise.resolve();
  });

  await run("token", async () => {
    const before = await counters(env.simUrl);
    first = await tokens.getToken(OFFICE);
    const after = await counters(env.simUrl);
    check(first.accessToken.length > 0 && first.source === "endpoint", `got ${first.source}`);
    check(after.tokenRequests === before.tokenRequests + 1, "not exactly one token request");
  });

  await run("l1_reuse", async () => {
    check(first !== undefined, "no first token");
    const before = await counters(env.simUrl);
    const again = await tokens.getToken(OFFICE.toLowerCase());
    const after = await counters(env.simUrl);
    check(again.accessToken === first.accessToken, "a different token");
    check(again.source === "l1", `source ${again.source}, not l1`);
    check(after.tokenRequests === before.tokenRequests, "a second token request");
  });

  await run("aqc_call", async () => {
    const before = await counters(env.simUrl);
    // A caller's signal, as a route handler passes `request.signal`: combined with the
    // upstream timeout (the Edge Runtime has no `AbortSignal.any`).
    const res = await aqc(OFFICE, SEARCH, { signal: new AbortController().signal });
    const body = await res.json() as { data?: unknown[] };
    const after = await counters(env.simUrl);
    check(res.status === 200, `AQC answered ${res.status}`);
    check(Array.isArray(body.data) && body.data.length > 0, "no offers");
    check(after.tokenRequests === before.tokenRequests, "a token request on a warm call");
    check(after.apiRequests === before.apiRequests + 1, "not one API request");
  });

  await run("replay_401", async () => {
    const before = await counters(env.simUrl);
    const old = await tokens.getToken(OFFICE);
    await configure(env.simUrl, { apiFailure: { mode: "invalid_token", remaining: 1 } });
    const res = await aqc(OFFICE, SEARCH);
    await res.body?.cancel();
    const after = await counters(env.simUrl);
    check(res.status === 200, `replayed call answered ${res.status}`);
    check(after.apiRequests === before.apiRequests + 2, "not one call plus one replay");
    check(after.tokenRequests === before.tokenRequests + 1, "not one fresh token");
    const fresh = await tokens.getToken(OFFICE);
    check(fresh.accessToken !== old.accessToken, "the rejected token is still cached");
  });

  await run("background_refresh", async () => {
    // 5 s tokens, refreshed 2.5 s ahead without jitter: due at 2.5 s, usable until 4 s.
    await configure(env.simUrl, { tokenLifetimeSeconds: 5 });
    try {
      const events: string[] = [];
      const short = new lib.TokenManager({
        credentials,
        refreshAheadSeconds: 2.5,
        refreshJitterSeconds: 0,
        expirySkewSeconds: 1,
        onEvent: (event) => {
          if (event.type === "refresh_started" && event.background) events.push(event.type);
        },
      });
      const old = await short.getToken(OFFICE);
      await sleep(Math.max(0, old.expiresAt - 2_500 - Date.now()) + 150);
      const handed: Promise<unknown>[] = [];
      const served = await short.getToken(OFFICE, { waitUntil: (p) => handed.push(p) });
      check(served.accessToken === old.accessToken, "a due token was not served while refreshing");
      check(events.length === 1, `${events.length} background refreshes started`);
      check(handed.length >= 1, "the background refresh was not handed to waitUntil");
      await Promise.allSettled(handed);
      await short.whenIdle();
      const next = await short.getToken(OFFICE);
      check(next.accessToken !== old.accessToken, "no new token after the background refresh");
      check(next.source === "l1", `the refreshed token came from ${next.source}, not l1`);
    } finally {
      await configure(env.simUrl, { tokenLifetimeSeconds: null });
    }
  });

  await run("l2_shared", async () => {
    const store = (): Library.UpstashTokenStore =>
      new lib.UpstashTokenStore({
        redis: platform.createRedis(env.upstashUrl, env.upstashToken),
        encryptionKey: env.tokenKey,
      });
    const a = new lib.TokenManager({ credentials, store: store() });
    const b = new lib.TokenManager({ credentials, store: store() });
    const before = await counters(env.simUrl);
    const fromA = await a.getToken(L2_OFFICE);
    const fromB = await b.getToken(L2_OFFICE);
    const after = await counters(env.simUrl);
    check(fromA.source === "endpoint", `first manager got its token from ${fromA.source}`);
    check(fromB.source === "l2", `second manager got its token from ${fromB.source}, not l2`);
    check(fromB.accessToken === fromA.accessToken, "the managers hold different tokens");
    check(after.tokenRequests === before.tokenRequests + 1, "not one token request for both");
  });

  await run("gateway_http", async () => {
    if (platform.gatewayUrl !== undefined) {
      return await checkGatewayOverHttp(platform.gatewayUrl, env);
    }
    check(platform.serve !== undefined, "the driver neither serves nor names a gateway");
    const config = gateway.loadConfig({
      AQC_API_URL: env.simUrl,
      AQC_CLIENT_ID: env.clientId,
      AQC_CLIENT_SECRET: env.clientSecret,
      UPSTASH_REDIS_REST_URL: env.upstashUrl,
      UPSTASH_REDIS_REST_TOKEN: env.upstashToken,
      AQC_TOKEN_KEY: env.tokenKey,
      AQC_GATEWAY_KEYS: env.gatewayKeysJson,
    });
    const app = gateway.createGateway(config);
    const served = await platform.serve((request) => app.fetch(request));
    try {
      await checkGatewayOverHttp(served.url, env);
    } finally {
      await served.close();
    }
  });

  await tokens.whenIdle();
  return results;
}
