/**
 * Security under hostile input: tenant isolation in every spelling of an office id, header
 * games, the cost of wrong caller keys, and leaks of secrets, tokens and keys anywhere they
 * could surface (logs, error bodies, events, errors, raw Redis).
 *
 * @module
 */
import { createUpstashRest } from "../src/store/upstash_rest.ts";
import { AqcError, type TokenEvent, TokenManager, UpstashTokenStore } from "../src/mod.ts";
import {
  createGateway,
  generateGatewayKey,
  generateTokenKey,
  loadConfig,
} from "../src/gateway/mod.ts";
import { findGatewayKey } from "../src/gateway/caller_auth.ts";
import type { GatewayKey } from "../src/config/load_config.ts";
import { serveSimulator } from "../dev/simulator/mod.ts";
import { findLeaks, type Haystack } from "./helpers/leaks.ts";
import { percentile } from "./helpers/load.ts";
import { rawHttp } from "./helpers/raw_http.ts";
import { startUpstash } from "./helpers/redis.ts";
import { Scenario } from "./helpers/reliability.ts";
import { OFFICES, redisHaystacks, scanForLeaks, startStack } from "./helpers/stack.ts";

/** A deterministic PRNG (mulberry32), so every run tries the same inputs. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (c: string, lower = false) => {
  const h = c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
  return `%${lower ? h.toLowerCase() : h}`;
};

/** Spellings of `office` a router, a decoder or a case-folder might map onto it. */
function spellings(office: string, random: () => number): string[] {
  const out = new Set<string>([office, office.toLowerCase()]);
  for (let i = 0; i < 12; i++) {
    out.add([...office].map((c) => (random() < 0.5 ? c.toLowerCase() : c)).join(""));
  }
  for (let i = 0; i < office.length; i++) {
    const c = office[i];
    out.add(office.slice(0, i) + hex(c) + office.slice(i + 1));
    out.add(office.slice(0, i) + hex(c.toLowerCase(), true) + office.slice(i + 1));
    out.add(office.slice(0, i) + "%25" + hex(c).slice(1) + office.slice(i + 1)); // double-encoded
  }
  out.add([...office].map((c) => hex(c)).join(""));
  out.add([...office.toLowerCase()].map((c) => hex(c, true)).join(""));
  for (const pad of ["%20", "%09", "%0A", "%0D", "+", "%00", "%C2%A0", "%E2%80%8B", "%EF%BB%BF"]) {
    out.add(pad + office);
    out.add(office + pad);
  }
  // Non-ASCII letters that upper-case onto ASCII ones, and look-alikes.
  const lookalikes: Record<string, string[]> = {
    I: ["%C4%B1", "%C4%B0"], // ı, İ
    A: ["%D0%90", "%EF%BC%A1"], // Cyrillic А, fullwidth Ａ
    E: ["%D0%95"],
    C: ["%D0%A1", "%E2%85%AD"], // Cyrillic С, Roman numeral Ⅽ
    M: ["%D0%9C", "%E2%85%AF"],
    H: ["%D0%9D"],
    P: ["%D0%A0"],
    "0": ["%EF%BC%90", "%D9%A0"], // fullwidth 0, Arabic-Indic 0
    "8": ["%EF%BC%98"],
  };
  for (let i = 0; i < office.length; i++) {
    for (const alt of lookalikes[office[i]] ?? []) {
      out.add(office.slice(0, i) + alt + office.slice(i + 1));
      out.add((office.slice(0, i) + alt + office.slice(i + 1)).toLowerCase());
    }
  }
  for (const suffix of [".", "%2E", ";x", "%3Bx", "%2F", "%5C", "~", "%23"]) {
    out.add(office + suffix);
  }
  return [...out];
}

Deno.test("security: a key bound to office A never reaches office B, in any casing or encoding", async () => {
  const scenario = new Scenario(
    "tenant-isolation",
    "security",
    "Keys bound to one office call the others in every casing, encoding and path trick",
  );
  scenario.figures.injected = "each office's key × the 3 other offices × ~95 spellings (case, " +
    "%-encoding, double encoding, padding, Unicode look-alikes, path tricks), over raw TCP";
  await using stack = await startStack({ isolates: 1 });
  const sim = stack.served.simulator;
  const before = sim.counters.apiRequests;
  const random = prng(0xa9c);
  let tried = 0;
  let reachedOther = 0;
  let allowed = 0;
  let ok200 = 0;
  let wronglyRefused = 0;
  const statuses: Record<string, number> = {};
  const bodies: Haystack[] = [];
  const send = async (key: string, target: string) => {
    tried++;
    const response = await rawHttp(stack.gateway.url, `GET ${target} HTTP/1.1`, [
      `Host: ${new URL(stack.gateway.url).host}`,
      `Authorization: Bearer ${key}`,
      "Connection: close",
    ]);
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    if (response.status === 200) ok200++;
    if (response.status !== 200) bodies.push({ where: `answer to ${target}`, text: response.body });
    return response;
  };
  for (const own of OFFICES) {
    const key = stack.officeKeys[own];
    for (const other of OFFICES.filter((o) => o !== own)) {
      const targets = [
        ...spellings(other, random).map((s) => `/aqc/${s}/v1/echo/x`),
        `/aqc/${own}/../${other}/v1/echo/x`,
        `/aqc/${own}/%2E%2E/${other}/v1/echo/x`,
        `/aqc/${own}%2F..%2F${other}/v1/echo/x`,
        `/aqc/${own}/..%2F${other}/v1/echo/x`,
        `/aqc/./${other}/v1/echo/x`,
        `/aqc//${other}/v1/echo/x`,
        `/AQC/${other}/v1/echo/x`,
        `/aqc/${other}?office=${own}`,
        `/aqc/${own}%00${other}/v1/echo/x`,
        `http://${new URL(stack.gateway.url).host}/aqc/${other}/v1/echo/x`,
      ];
      for (const target of targets) {
        const response = await send(key, target);
        if (response.status === 200) {
          const office = (JSON.parse(response.body) as { office?: string }).office;
          if (office !== own) reachedOther++;
        }
      }
    }
    // The key still reaches its own office in every spelling that canonicalises to it.
    for (
      const spelling of [
        own.toLowerCase(),
        hex(own[0]) + own.slice(1),
        ` ${own}`.replace(" ", "%20"),
      ]
    ) {
      const response = await send(key, `/aqc/${spelling}/v1/echo/x`);
      if (response.status === 200) allowed++;
      else wronglyRefused++;
    }
  }
  const upstream = sim.counters.apiRequests - before;
  const echoed = sim.counters.apiLog.filter((e) => e.officeId !== undefined);
  scenario.figures.badInputs = tried;
  scenario.figures.faults = tried - allowed;
  scenario.figures.failedCalls = reachedOther;
  scenario.check("no key reached another office", reachedOther === 0, reachedOther);
  scenario.check(
    "AQC only ever saw requests of the key's own office",
    upstream === ok200 && echoed.every((e) => e.status === 200),
    `${upstream} upstream requests for ${ok200} answers 200`,
  );
  scenario.check("each key still reaches its own office", wronglyRefused === 0, wronglyRefused);
  scenario.note(`${tried} requests; answers ${JSON.stringify(statuses)}`);
  const leaks = await scanForLeaks(stack, []);
  const bodyLeaks = findLeaks(bodies, stack.secrets());
  scenario.figures.leaks = leaks.hits.length + bodyLeaks.length;
  scenario.check(
    "no secret in any answer, log line or Redis",
    scenario.figures.leaks === 0,
    [...leaks.hits, ...bodyLeaks].join("; "),
  );
  await scenario.finish();
});

Deno.test("security: header games never override the AQC bearer nor leak the caller's key", async () => {
  const scenario = new Scenario(
    "header-games",
    "security",
    "Duplicate and mixed-case Authorization, Proxy-Authorization, X-Forwarded-*, Host, Connection",
  );
  scenario.figures.injected = "crafted requests over raw TCP, each checked at AQC's side";
  await using stack = await startStack({ isolates: 1 });
  const sim = stack.served.simulator;
  const office = OFFICES[0];
  const key = stack.key;
  const other = stack.officeKeys[OFFICES[1]];
  const host = new URL(stack.gateway.url).host;
  const simHost = new URL(stack.served.url).host;
  const path = `/aqc/${office}/v1/echo/games`;
  const aqcToken = () => sim.latestToken(office)?.accessToken;
  /** `any`: the status is the server's business, but a 200 must still meet every rule. */
  type Game = {
    name: string;
    request?: string;
    lines: string[];
    expect: 200 | 400 | 401 | "any";
  };
  const games: Game[] = [
    {
      name: "two Authorization headers (key, key)",
      lines: [`Authorization: Bearer ${key}`, `Authorization: Bearer ${key}`],
      expect: 401,
    },
    {
      name: "two Authorization headers (key, other key)",
      lines: [`Authorization: Bearer ${key}`, `Authorization: Bearer ${other}`],
      expect: 401,
    },
    {
      name: "two Authorization headers (junk, key)",
      lines: ["Authorization: Basic Zm9vOmJhcg==", `Authorization: Bearer ${key}`],
      expect: 401,
    },
    {
      name: "Authorization and authorization",
      lines: [`Authorization: Bearer ${key}`, `authorization: Bearer ${key}`],
      expect: 401,
    },
    { name: "AUTHORIZATION upper-case name", lines: [`AUTHORIZATION: Bearer ${key}`], expect: 200 },
    {
      name: "aUtHoRiZaTiOn mixed-case name, lower-case scheme",
      lines: [`aUtHoRiZaTiOn: bearer ${key}`],
      expect: 200,
    },
    {
      name: "Authorization with a comma list",
      lines: [`Authorization: Bearer ${key}, Bearer ${other}`],
      expect: 401,
    },
    {
      name: "Proxy-Authorization only",
      lines: [`Proxy-Authorization: Bearer ${key}`],
      expect: 401,
    },
    {
      name: "Proxy-Authorization beside Authorization",
      lines: [`Authorization: Bearer ${key}`, `Proxy-Authorization: Bearer ${key}`],
      expect: 200,
    },
    {
      name: "X-Forwarded-* and Forwarded",
      lines: [
        `Authorization: Bearer ${key}`,
        "X-Forwarded-Host: evil.example",
        "X-Forwarded-Proto: http",
        "X-Forwarded-For: 203.0.113.9",
        "X-Forwarded-Prefix: /evil",
        "Forwarded: host=evil.example;proto=http",
        "X-Original-URL: /aqc/DELAI08AA/v1/echo/x",
        "X-Rewrite-URL: /aqc/DELAI08AA/v1/echo/x",
        "X-HTTP-Method-Override: DELETE",
      ],
      expect: 200,
    },
    {
      name: "Host override",
      lines: [`Authorization: Bearer ${key}`, "Host: evil.example"],
      expect: 200,
    },
    {
      name: "Host with a path (would route another office)",
      lines: [`Authorization: Bearer ${key}`, `Host: evil.example/aqc/${OFFICES[1]}`],
      expect: 400,
    },
    {
      name: "narrow key, Host with a path to another office",
      lines: [`Authorization: Bearer ${stack.officeKeys[office]}`, `Host: x/aqc/${OFFICES[1]}`],
      expect: 400,
    },
    {
      name: "Host with a query",
      lines: [`Authorization: Bearer ${key}`, `Host: evil.example?x=`],
      expect: 400,
    },
    {
      name: "Host with a backslash",
      lines: [`Authorization: Bearer ${key}`, `Host: evil.example\\aqc`],
      expect: 400,
    },
    {
      name: "Host with userinfo (the key)",
      lines: [`Authorization: Bearer ${key}`, `Host: ${key}@evil.example`],
      expect: 400,
    },
    {
      name: "two Host lines",
      lines: [`Authorization: Bearer ${key}`, `Host: ${host}`, "Host: evil.example"],
      expect: 400,
    },
    {
      name: "Connection names Authorization",
      lines: [`Authorization: Bearer ${key}`, "Connection: close, authorization"],
      expect: 200,
    },
    {
      name: "Connection names X-Custom",
      lines: [`Authorization: Bearer ${key}`, "Connection: close, x-custom", "X-Custom: dropped"],
      expect: 200,
    },
    {
      name: "Connection names Host and Proxy-Authorization",
      lines: [
        `Authorization: Bearer ${key}`,
        "Connection: host, proxy-authorization",
        `Proxy-Authorization: ${key}`,
      ],
      expect: 200,
    },
    {
      name: "Te, Trailer, Upgrade, Keep-Alive",
      lines: [
        `Authorization: Bearer ${key}`,
        "TE: trailers",
        "Trailer: Authorization",
        "Upgrade: websocket",
        "Keep-Alive: timeout=5",
      ],
      expect: 200,
    },
    {
      name: "key in an absolute-form target's userinfo",
      request: `GET http://${key}@${host}${path} HTTP/1.1`,
      lines: [`Authorization: Bearer ${key}`],
      expect: "any",
    },
    {
      name: "absolute-form target naming another host",
      request: `GET http://evil.example${path} HTTP/1.1`,
      lines: [`Authorization: Bearer ${key}`],
      expect: "any",
    },
    {
      name: "Bearer with extra spaces and tab",
      lines: [`Authorization: Bearer \t ${key}`],
      expect: 200,
    },
    {
      name: "Bearer token with trailing junk",
      lines: [`Authorization: Bearer ${key}.x`],
      expect: 401,
    },
  ];
  const failures: string[] = [];
  const statuses: string[] = [];
  const bodies: Haystack[] = [];
  let upstreamCalls = 0;
  for (const game of games) {
    const before = sim.counters.apiRequests;
    const lines = game.lines.some((l) => /^host:/i.test(l))
      ? game.lines
      : [`Host: ${host}`, ...game.lines];
    if (!lines.some((l) => /^connection:/i.test(l))) lines.push("Connection: close");
    const response = await rawHttp(
      stack.gateway.url,
      game.request ?? `GET ${path} HTTP/1.1`,
      lines,
    );
    const reached = sim.counters.apiRequests - before;
    upstreamCalls += reached;
    bodies.push({ where: `answer to "${game.name}"`, text: response.body });
    const ok = game.expect === "any"
      ? response.status !== 0 && response.status < 500
      : response.status === game.expect;
    if (!ok) failures.push(`${game.name}: ${response.status}`);
    if (response.status !== 200 && reached > 0) failures.push(`${game.name}: reached AQC`);
    statuses.push(`${game.name}: ${response.status}`);
    if (response.status !== 200) continue;
    const echo = JSON.parse(response.body) as { headers: Record<string, string>; url: string };
    if (echo.headers.authorization !== `Bearer ${aqcToken()}`) {
      failures.push(
        `${game.name}: AQC got authorization ${
          echo.headers.authorization === undefined ? "none" : "other"
        }`,
      );
    }
    for (
      const dropped of ["proxy-authorization", "x-custom", "te", "trailer", "upgrade", "keep-alive"]
    ) {
      if (dropped in echo.headers) failures.push(`${game.name}: ${dropped} forwarded`);
    }
    if (echo.headers.host !== simHost) {
      failures.push(`${game.name}: AQC got Host ${echo.headers.host}`);
    }
    if (!echo.url.startsWith(stack.served.url + "/v1/echo/games")) {
      failures.push(`${game.name}: AQC got ${echo.url}`);
    }
    if (
      findLeaks([{ where: game.name, text: response.body }], [{ name: "key", value: key }, {
        name: "other key",
        value: other,
      }]).length > 0
    ) {
      failures.push(`${game.name}: the caller's key reached AQC`);
    }
  }
  scenario.figures.badInputs = games.length;
  scenario.figures.faults = games.length;
  scenario.figures.failedCalls = failures.length;
  scenario.check(
    "every header game answered as designed; the bearer is always AQC's own",
    failures.length === 0,
    failures.join("; "),
  );
  scenario.note(
    `${games.length} header games, ${upstreamCalls} reached AQC (all with the AQC bearer only)`,
  );
  scenario.note(`answers: ${statuses.join("; ")}`);
  const log = sim.counters.apiLog;
  const keyInUpstream = findLeaks(
    log.map((e) => ({ where: `AQC request ${e.url}`, text: JSON.stringify(e) })),
    stack.secrets().filter((s) => s.name.startsWith("gateway key")),
  );
  scenario.check(
    "no gateway key in any request AQC received",
    keyInUpstream.length === 0,
    keyInUpstream.join("; "),
  );
  const leaks = await scanForLeaks(stack, []);
  const bodyLeaks = findLeaks(
    bodies.filter((b) => !b.text.startsWith('{"method"')),
    stack.secrets(),
  );
  scenario.figures.leaks = leaks.hits.length + bodyLeaks.length + keyInUpstream.length;
  scenario.check(
    "no secret in any answer, log line or Redis",
    leaks.hits.length + bodyLeaks.length === 0,
    [...leaks.hits, ...bodyLeaks].join("; "),
  );
  await scenario.finish();
});

Deno.test("security: caller keys are hashed, then compared in constant time; wrong keys cost the same", async () => {
  const scenario = new Scenario(
    "caller-key-constant-time",
    "security",
    "Gateway keys: SHA-256 then a full compare of every configured hash, whatever the key",
  );
  scenario.figures.injected = "wrong keys: random, one character off, SHA-256 equal but for " +
    "one bit, first byte off, empty, 64 KiB";
  const valid = await generateGatewayKey("web", ["*"]);
  const digest = async (text: string) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const nearHash = await digest("near-miss-key");
  nearHash[31] ^= 1; // a configured hash equal to SHA-256("near-miss-key") but for its last bit
  const farHash = await digest("far-miss-key");
  farHash[0] ^= 0xff;
  const configured: GatewayKey[] = [
    { id: "web", sha256: await digest(valid.key), offices: "*" },
    { id: "near", sha256: nearHash, offices: "*" },
    { id: "far", sha256: farHash, offices: "*" },
  ];
  const classes: Record<string, string> = {
    "valid key": valid.key,
    "random wrong key": "aqcgw_" + "x".repeat(43),
    "valid key but its last character": valid.key.slice(0, -1) +
      (valid.key.endsWith("A") ? "B" : "A"),
    "hash matches 31 of 32 bytes": "near-miss-key",
    "hash differs in its first byte": "far-miss-key",
    "empty": "",
    "64 KiB": "k".repeat(65_536),
  };
  // 1. The work is the same for every key: one digest, then every byte of every configured
  // hash read once (no early exit), whichever key and however much of it matched.
  const reads: Record<string, number> = {};
  const originalDigest = crypto.subtle.digest.bind(crypto.subtle);
  for (const [name, presented] of Object.entries(classes)) {
    let count = 0;
    let digests = 0;
    const counted = configured.map((k) => ({
      ...k,
      sha256: new Proxy(k.sha256, {
        get(target, property) {
          if (typeof property === "string" && /^\d+$/.test(property)) count++;
          const value = Reflect.get(target, property);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    }));
    Object.defineProperty(crypto.subtle, "digest", {
      configurable: true,
      value: (algorithm: AlgorithmIdentifier, data: BufferSource) => {
        digests++;
        return originalDigest(algorithm, data);
      },
    });
    try {
      const found = await findGatewayKey(counted, presented);
      scenario.check(
        `${name}: ${name === "valid key" ? "found" : "rejected"}`,
        name === "valid key" ? found?.id === "web" : found === undefined,
      );
    } finally {
      // Back to the prototype's method.
      delete (crypto.subtle as { digest?: unknown }).digest;
    }
    reads[name] = count;
    scenario.check(`${name}: hashed once`, digests === 1, digests);
  }
  const counts = new Set(Object.values(reads));
  scenario.check(
    "every key reads every byte of every configured hash (32 × 3), no early exit",
    counts.size === 1 && reads["valid key"] === 32 * configured.length,
    JSON.stringify(reads),
  );
  // 2. Timing, paired: each round times both wrong keys back to back in a random order, so
  // whatever the machine is doing meanwhile hits both alike; the median of the differences
  // must be small next to the cost itself (the compare is a fixed 96-byte loop, the digest
  // dominates). A timing check cannot prove constant time; the count above does.
  const random = prng(0x7e57);
  const paired = async (
    rounds: number,
    a: () => Promise<unknown>,
    b: () => Promise<unknown>,
  ): Promise<{ diff: number; cost: number }> => {
    const diffs: number[] = [];
    const costs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = random() < 0.5 ? [a, b] : [b, a];
      const times: number[] = [];
      for (const run of order) {
        const t0 = performance.now();
        await run();
        times.push(performance.now() - t0);
      }
      const [ta, tb] = order[0] === a ? times : [times[1], times[0]];
      diffs.push(ta - tb);
      costs.push(ta, tb);
    }
    return { diff: percentile(diffs, 50), cost: percentile(costs, 50) };
  };
  const local = await paired(
    3_000,
    () => findGatewayKey(configured, classes["random wrong key"]),
    () => findGatewayKey(configured, classes["valid key but its last character"]),
  );
  scenario.check(
    "wrong keys of the same length: median paired difference under 25 % of the cost",
    Math.abs(local.diff) <= 0.25 * local.cost,
    `${(local.diff * 1000).toFixed(2)} µs of ${(local.cost * 1000).toFixed(1)} µs`,
  );
  // 3. Over HTTP, through the shipped gateway: wrong keys all 401, at the same cost.
  await using stack = await startStack({ isolates: 1 });
  const url = `${stack.gateway.url}/aqc/${OFFICES[0]}/v1/echo/x`;
  let non401 = 0;
  const attempt = async (wrongKey: string) => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${wrongKey}` } });
    await response.body?.cancel();
    if (response.status !== 401) non401++;
  };
  const nearKey = stack.key.slice(0, -1) + (stack.key.endsWith("A") ? "B" : "A");
  const overHttp = await paired(
    300,
    () => attempt("aqcgw_" + "y".repeat(43)),
    () => attempt(nearKey),
  );
  scenario.check("over HTTP every wrong key is a 401", non401 === 0, non401);
  scenario.check(
    "over HTTP a random key and the valid key but one character cost the same (paired median under 25 %)",
    Math.abs(overHttp.diff) <= 0.25 * overHttp.cost,
    `${(overHttp.diff * 1000).toFixed(0)} µs of ${(overHttp.cost * 1000).toFixed(0)} µs`,
  );
  scenario.note(
    `median cost of a wrong key: ${(local.cost * 1000).toFixed(1)} µs in process, ` +
      `${overHttp.cost.toFixed(2)} ms over HTTP; median paired differences ` +
      `${(local.diff * 1000).toFixed(2)} µs and ${(overHttp.diff * 1000).toFixed(0)} µs`,
  );
  // Wrong keys presented: the classes, the timed ones, and those sent over HTTP.
  scenario.figures.badInputs = Object.keys(classes).length - 1 + 2 * 3_000 + 2 * 300;
  scenario.figures.faults = 0;
  const leaks = await scanForLeaks(stack, []);
  scenario.figures.leaks = leaks.hits.length;
  scenario.check(
    "no secret in any log line or Redis",
    leaks.hits.length === 0,
    leaks.hits.join("; "),
  );
  await scenario.finish();
});

Deno.test("security: no secret, token or key in any log line, error body, event or error — even from a hostile token endpoint", async () => {
  const scenario = new Scenario(
    "no-secret-in-logs-events-errors",
    "security",
    "In-process gateway under every failure, incl. a token endpoint that reflects the secret",
  );
  scenario.figures.injected = "token endpoint reflecting the secret (401, 400, 500, 200), " +
    "invalid_client, 503, 429, hang, reset, malformed, revoked tokens, AQC hang and reset, Redis down";
  // A secret of lower-case letters and underscores: what an OAuth error name looks like.
  const clientId = "aqc_reflect_client";
  const clientSecret = "reflected_client_secret_value";
  await using served = await serveSimulator({ clients: { [clientId]: { secret: clientSecret } } });
  await using upstash = await startUpstash();
  const tokenKey = generateTokenKey();
  const gatewayKey = await generateGatewayKey("web", ["*"]);
  const config = loadConfig({
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: clientId,
    AQC_CLIENT_SECRET: clientSecret,
    AQC_GATEWAY_KEYS: JSON.stringify([gatewayKey.entry]),
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: upstash.token,
    AQC_TOKEN_KEY: tokenKey,
    AQC_UPSTREAM_TIMEOUT_MS: "500",
  });
  const events: TokenEvent[] = [];
  const logs: unknown[] = [];
  const errors: unknown[] = [];
  // The client the gateway builds (one attempt per call, a fresh timeout per call).
  const redis = createUpstashRest({ url: upstash.url, token: upstash.token, timeoutMs: 500 });
  const tokens = new TokenManager({
    credentials: config.credentials,
    store: new UpstashTokenStore({ redis, encryptionKey: tokenKey }),
    refreshJitterSeconds: 0,
    tokenRequestTimeoutMs: 300,
    retryDeadlineMs: 600,
    retryBaseDelayMs: 20,
    rejectedCacheSeconds: 0,
    transientFailureSeconds: 0,
    storeTimeoutMs: 500,
    onEvent: (e) => events.push(e),
  });
  const app = createGateway(config, { tokens, log: (entry) => logs.push(entry) });
  const bodies: Haystack[] = [];
  const call = async (office: string, headers: Record<string, string> = {}) => {
    const response = await app.fetch(
      new Request(`http://gateway.test/aqc/${office}/v1/echo/x`, {
        headers: { authorization: `Bearer ${gatewayKey.key}`, ...headers },
      }),
    );
    const text = await response.text();
    if (response.status !== 200) bodies.push({ where: `answer ${response.status}`, text });
    return response.status;
  };
  const sim = served.simulator;
  const reflect = (status: number) => (_request: Request, context: { form: URLSearchParams }) =>
    new Response(
      JSON.stringify({
        error: context.form.get("client_secret"),
        error_description: `bad secret ${context.form.get("client_secret")}`,
        code: context.form.get("client_secret"),
      }),
      { status, headers: { "content-type": "application/json" } },
    );
  const steps: Array<[string, () => unknown]> = [
    [
      "token endpoint reflects the secret in a 401",
      () => sim.configure({ tokenResponder: reflect(401) }),
    ],
    [
      "token endpoint reflects the secret in a 400",
      () => sim.configure({ tokenResponder: reflect(400) }),
    ],
    [
      "token endpoint reflects the secret in a 500",
      () => sim.configure({ tokenResponder: reflect(500) }),
    ],
    ["token endpoint reflects the secret in a 200", () =>
      sim.configure({
        tokenResponder: (_r, c) =>
          new Response(
            JSON.stringify({
              access_token: c.form.get("client_secret"),
              token_type: "MAC",
              expires_in: 1,
            }),
            {
              headers: { "content-type": "application/json" },
            },
          ),
      })],
    [
      "invalid_client",
      () => sim.configure({ tokenResponder: null, tokenFailure: { mode: "invalid_client" } }),
    ],
    ["503", () => sim.configure({ tokenFailure: { mode: "status", status: 503 } })],
    ["429", () => sim.configure({ tokenFailure: { mode: "rate_limited", retryAfterSeconds: 0 } })],
    ["hang", () => sim.configure({ tokenFailure: { mode: "hang" } })],
    ["reset", () => sim.configure({ tokenFailure: { mode: "reset" } })],
    [
      "malformed",
      () => sim.configure({ tokenFailure: { mode: "malformed", body: '{"access_token":' } }),
    ],
    ["healthy, then every token revoked (401 replay)", () => {
      sim.configure({ tokenFailure: null });
    }],
    [
      "AQC hangs past the timeout",
      () => sim.configure({ apiFailure: { mode: "hang", remaining: 2 } }),
    ],
    ["AQC resets", () => sim.configure({ apiFailure: { mode: "reset", remaining: 2 } })],
    ["Redis down", () => upstash.bridge.stop()],
  ];
  let office = 0;
  for (const [name, apply] of steps) {
    await apply();
    // A fresh office per step, so each one really asks the token endpoint.
    const id = `LON${String(office++).padStart(2, "0")}A0001`.slice(0, 9);
    await call(id);
    await call(id, { "x-request-id": "caller-chosen-id" });
    if (name.startsWith("healthy")) {
      sim.revokeAll();
      await call(id);
    }
    try {
      await tokens.getToken(id);
    } catch (error) {
      errors.push(error);
    }
  }
  await upstash.bridge.start();
  await tokens.whenIdle();
  scenario.figures.badInputs = steps.length;
  scenario.figures.faults = steps.length;
  scenario.check(
    "every failure path was taken",
    errors.length >= 8 && errors.every((e) => e instanceof AqcError),
    errors.length,
  );
  const needles = [
    { name: "client secret", value: clientSecret },
    { name: "gateway key", value: gatewayKey.key },
    { name: "Upstash token", value: upstash.token },
    { name: "AQC_TOKEN_KEY", value: tokenKey },
    ...sim.issuedTokens.map((t, i) => ({ name: `token #${i}`, value: t.accessToken })),
  ];
  const texts: Haystack[] = [
    ...bodies,
    ...logs.map((l, i) => ({ where: `log line #${i}`, text: JSON.stringify(l) })),
    ...events.map((e, i) => ({ where: `event #${i} (${e.type})`, text: JSON.stringify(e) })),
    ...errors.map((e, i) => ({
      where: `error #${i}`,
      text: `${String(e)} ${JSON.stringify(e)} ${Deno.inspect(e, { depth: 8 })}`,
    })),
  ];
  const hits = findLeaks(texts, needles);
  const stored = findLeaks(await redisHaystacks(upstash), [
    ...needles,
    { name: "client id", value: clientId },
    ...Array.from({ length: office }, (_, i) => {
      const id = `LON${String(i).padStart(2, "0")}A0001`.slice(0, 9);
      return { name: `office id ${id}`, value: id };
    }),
  ]);
  scenario.figures.leaks = hits.length + stored.length;
  scenario.note(
    `${texts.length} texts scanned (${bodies.length} error bodies, ${logs.length} log lines, ` +
      `${events.length} events, ${errors.length} errors) and every Redis key`,
  );
  scenario.check(
    "no secret, token or key in any log line, error body, event or error",
    hits.length === 0,
    hits.join("; "),
  );
  scenario.check(
    "no secret, token, office id or client id in Redis",
    stored.length === 0,
    stored.join("; "),
  );
  await scenario.finish();
});
