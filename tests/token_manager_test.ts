/**
 * TokenManager against the AQC simulator over real HTTP on loopback.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  AqcError,
  type Credentials,
  MemoryTokenStore,
  type TokenEvent,
  TokenManager,
  type TokenManagerOptions,
} from "../src/mod.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type ServedSimulator,
  serveSimulator,
} from "../dev/simulator/mod.ts";
import { tokenKeyId } from "../src/token/key.ts";

const OFFICE = "NCE1A0955";
const OFFICES = ["NCE1A0955", "DELAI08AA", "PARAF08AA", "LON1A0001", "NYC1S2100"];

/** A settable clock shared by the simulator and the manager. */
function clock(
  start = Date.UTC(2026, 10, 29, 8),
): { now: () => number; advance(ms: number): void; set(t: number): void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => void (time += ms),
    set: (t) => void (time = t),
  };
}

function credentials(served: ServedSimulator, secret = DEFAULT_CLIENT_SECRET): Credentials {
  return { apiUrl: served.url, clientId: DEFAULT_CLIENT_ID, clientSecret: secret };
}

function manager(
  served: ServedSimulator,
  options: Partial<TokenManagerOptions> = {},
): { tokens: TokenManager; events: TokenEvent[] } {
  const events: TokenEvent[] = [];
  const tokens = new TokenManager({
    credentials: credentials(served),
    refreshJitterSeconds: 0,
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 100,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { tokens, events };
}

function codeOf(error: unknown): string | undefined {
  return error instanceof AqcError ? error.code : undefined;
}

Deno.test("500 concurrent cold getToken calls make exactly one token request", async () => {
  await using served = await serveSimulator({ knobs: { tokenLatencyMs: 50 } });
  const { tokens } = manager(served);
  const results = await Promise.all(
    Array.from(
      { length: 500 },
      (_, i) => tokens.getToken(i % 2 ? OFFICE : ` ${OFFICE.toLowerCase()} `),
    ),
  );
  assert.equal(served.simulator.counters.tokenRequests, 1);
  assert.equal(new Set(results.map((t) => t.accessToken)).size, 1);
  assert.equal(results[0].accessToken, served.simulator.latestToken(OFFICE)?.accessToken);
  assert.equal(results[0].officeId, OFFICE);
  assert.equal(results[0].source, "endpoint");
  // Warm: no more requests, answered from L1.
  const warm = await tokens.getToken(OFFICE);
  assert.equal(warm.source, "l1");
  assert.equal(served.simulator.counters.tokenRequests, 1);
});

Deno.test("N offices under 100 concurrent cold calls each make exactly N token requests", async () => {
  await using served = await serveSimulator({ knobs: { tokenLatencyMs: 30 } });
  const { tokens } = manager(served);
  const calls = OFFICES.flatMap((office) =>
    Array.from({ length: 100 }, () => tokens.getToken(office))
  );
  const results = await Promise.all(calls);
  const counters = served.simulator.counters;
  assert.equal(counters.tokenRequests, OFFICES.length);
  for (const office of OFFICES) assert.equal(counters.tokenRequestsByOffice[office], 1);
  assert.equal(new Set(results.map((t) => t.accessToken)).size, OFFICES.length);
  for (const token of results) {
    assert.equal(token.accessToken, served.simulator.latestToken(token.officeId)?.accessToken);
  }
});

Deno.test("several isolates sharing one store make one token request in all", async () => {
  await using served = await serveSimulator({ knobs: { tokenLatencyMs: 50 } });
  const store = new MemoryTokenStore();
  const isolates = Array.from({ length: 8 }, () => manager(served, { store }).tokens);
  const results = await Promise.all(
    isolates.flatMap((tokens) => Array.from({ length: 50 }, () => tokens.getToken(OFFICE))),
  );
  assert.equal(served.simulator.counters.tokenRequests, 1);
  assert.equal(new Set(results.map((t) => t.accessToken)).size, 1);
  assert.ok(results.some((t) => t.source === "l2"));
});

Deno.test("inside the refresh window: cached token at once, exactly one background refresh", async () => {
  const time = clock();
  await using served = await serveSimulator({ now: time.now });
  const { tokens, events } = manager(served, { now: time.now });
  const first = await tokens.getToken(OFFICE);
  assert.equal(first.expiresAt - first.issuedAt, 1799_000);
  // 1799 s lifetime, 300 s ahead, no jitter: the window opens at 1499 s.
  time.advance(1_500_000);
  served.simulator.configure({ tokenLatencyMs: 200 });
  const during = await Promise.all(Array.from({ length: 200 }, () => tokens.getToken(OFFICE)));
  // Every caller got the old token while the one refresh was still in flight.
  assert.ok(during.every((t) => t.accessToken === first.accessToken));
  assert.equal(served.simulator.counters.tokensIssued, 1, "answered before the new token existed");
  await tokens.whenIdle();
  assert.equal(served.simulator.counters.tokenRequests, 2);
  assert.equal(events.filter((e) => e.type === "refresh_started" && e.background).length, 1);
  const after = await tokens.getToken(OFFICE);
  assert.notEqual(after.accessToken, first.accessToken);
  assert.equal(after.accessToken, served.simulator.latestToken(OFFICE)?.accessToken);
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("past the skew no caller ever receives the old token", async () => {
  const time = clock();
  await using served = await serveSimulator({ now: time.now, knobs: { tokenLatencyMs: 50 } });
  const { tokens } = manager(served, { now: time.now });
  const first = await tokens.getToken(OFFICE);
  assert.equal(first.usableUntil, first.expiresAt - 30_000);
  time.set(first.usableUntil); // the very first instant it must not be sent
  const results = await Promise.all(Array.from({ length: 300 }, () => tokens.getToken(OFFICE)));
  assert.ok(results.every((t) => t.accessToken !== first.accessToken));
  assert.equal(new Set(results.map((t) => t.accessToken)).size, 1);
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("stale-if-error: failing refreshes keep serving the cached token until usableUntil", async () => {
  const time = clock();
  await using served = await serveSimulator({ now: time.now });
  const { tokens, events } = manager(served, { now: time.now, retryDeadlineMs: 300 });
  const first = await tokens.getToken(OFFICE);
  served.simulator.configure({ tokenFailure: { mode: "status", status: 503 } });
  time.advance(1_600_000); // inside the window
  for (let i = 0; i < 20; i++) {
    assert.equal((await tokens.getToken(OFFICE)).accessToken, first.accessToken);
    await tokens.whenIdle();
    time.advance(5_000);
  }
  assert.ok(events.some((e) => e.type === "refresh_failed" && e.background));
  time.set(first.usableUntil + 1);
  await assert.rejects(tokens.getToken(OFFICE), (e) => codeOf(e) === "token_endpoint_unavailable");
  served.simulator.configure({ tokenFailure: null });
  time.advance(3_000); // past the short shared failure window
  assert.notEqual((await tokens.getToken(OFFICE)).accessToken, first.accessToken);
});

Deno.test("every malformed token response is token_response_invalid and nothing is cached", async () => {
  await using served = await serveSimulator();
  const { tokens } = manager(served, { transientFailureSeconds: 0 });
  const malformed: Array<{ body: string; contentType?: string; status?: number }> = [
    { body: "not json" },
    { body: "" },
    { body: "[]" },
    { body: "null" },
    { body: '{"token_type":"Bearer","expires_in":1799}' },
    { body: '{"access_token":"","token_type":"Bearer","expires_in":1799}' },
    { body: '{"access_token":42,"token_type":"Bearer","expires_in":1799}' },
    { body: '{"access_token":"abc","token_type":"MAC","expires_in":1799}' },
    { body: '{"access_token":"abc","expires_in":1799}' },
    { body: '{"access_token":"abc","token_type":"Bearer","expires_in":0}' },
    { body: '{"access_token":"abc","token_type":"Bearer","expires_in":-5}' },
    { body: '{"access_token":"abc","token_type":"Bearer","expires_in":"1799"}' },
    { body: '{"access_token":"abc","token_type":"Bearer"}' },
    { body: '{"access_token":"abc","token_type":"Bearer","expires_in":1799,"state":"expired"}' },
    {
      body: '{"access_token":"abc","token_type":"Bearer","expires_in":1799}',
      contentType: "text/html",
    },
    {
      body: '{"access_token":"abc","token_type":"Bearer","expires_in":1799',
      contentType: "application/json; charset=utf-8",
    },
  ];
  for (const answer of malformed) {
    served.simulator.configure({ tokenFailure: { mode: "malformed", remaining: 1, ...answer } });
    const before = served.simulator.counters.tokenRequests;
    await assert.rejects(
      tokens.getToken(OFFICE),
      (e) => codeOf(e) === "token_response_invalid",
      answer.body,
    );
    assert.equal(served.simulator.counters.tokenRequests, before + 1, "not retried");
  }
  // Nothing was cached: the next call asks again and gets a real token.
  const token = await tokens.getToken(OFFICE);
  assert.equal(token.source, "endpoint");
  assert.equal(served.simulator.counters.tokenRequests, malformed.length + 1);
});

Deno.test("a charset suffix on the JSON content type is accepted", async () => {
  await using served = await serveSimulator({
    knobs: { contentType: "application/json; charset=UTF-8" },
  });
  const { tokens } = manager(served);
  assert.equal((await tokens.getToken(OFFICE)).source, "endpoint");
});

Deno.test("invalid_client under 50 concurrent callers: one request, then negative-cached", async () => {
  const time = clock();
  await using served = await serveSimulator({ now: time.now });
  const events: TokenEvent[] = [];
  const tokens = new TokenManager({
    credentials: credentials(served, "wrong-secret-value"),
    now: time.now,
    onEvent: (e) => events.push(e),
  });
  const settled = await Promise.allSettled(
    Array.from({ length: 50 }, () => tokens.getToken(OFFICE)),
  );
  assert.ok(
    settled.every((r) => r.status === "rejected" && codeOf(r.reason) === "credentials_rejected"),
  );
  assert.equal(served.simulator.counters.tokenRequests, 1);
  time.advance(59_000);
  await assert.rejects(
    tokens.getToken(OFFICE),
    (e: AqcError) => e.code === "credentials_rejected" && e.retryAfterSeconds === 1,
  );
  assert.equal(served.simulator.counters.tokenRequests, 1);
  assert.ok(events.some((e) => e.type === "negative_cache_hit"));
  time.advance(1_001);
  await assert.rejects(tokens.getToken(OFFICE), (e) => codeOf(e) === "credentials_rejected");
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("5xx, resets and timeouts are retried with backoff inside the deadline", async () => {
  await using served = await serveSimulator();
  const { tokens, events } = manager(served, { tokenRequestTimeoutMs: 200 });
  served.simulator.configure({ tokenFailure: { mode: "status", status: 503, remaining: 2 } });
  assert.equal((await tokens.getToken(OFFICE)).source, "endpoint");
  assert.equal(served.simulator.counters.tokenRequests, 3);
  const retries = events.filter((e) => e.type === "token_fetch_failed");
  assert.equal(retries.length, 2);
  assert.ok(
    retries.every((e) => e.type === "token_fetch_failed" && e.willRetry && e.status === 503),
  );

  served.simulator.configure({
    tokenFailure: { mode: "hang", remaining: 1, offices: ["DELAI08AA"] },
  });
  const hung = await tokens.getToken("DELAI08AA");
  assert.equal(hung.source, "endpoint");
  served.simulator.configure({
    tokenFailure: { mode: "reset", remaining: 1, offices: ["PARAF08AA"] },
  });
  assert.equal((await tokens.getToken("PARAF08AA")).source, "endpoint");
  assert.equal(served.simulator.counters.tokenRequestsByOffice["PARAF08AA"], 2);
});

Deno.test("retries stop at the deadline with token_endpoint_unavailable", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "status", status: 500 } },
  });
  const { tokens } = manager(served, { retryDeadlineMs: 400 });
  const started = performance.now();
  await assert.rejects(tokens.getToken(OFFICE), (e) => codeOf(e) === "token_endpoint_unavailable");
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 2_000, `bounded by the deadline, took ${elapsed} ms`);
  assert.ok(served.simulator.counters.tokenRequests >= 2);
});

Deno.test("429 waits at least Retry-After before asking again", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "rate_limited", retryAfterSeconds: 1, remaining: 1 } },
  });
  const { tokens, events } = manager(served);
  const started = performance.now();
  assert.equal((await tokens.getToken(OFFICE)).source, "endpoint");
  const waited = performance.now() - started;
  assert.ok(waited >= 1_000, `waited ${waited} ms`);
  const failed = events.find((e) => e.type === "token_fetch_failed");
  assert.ok(
    failed?.type === "token_fetch_failed" && failed.code === "rate_limited" &&
      (failed.delayMs ?? 0) >= 1_000,
  );
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("a Retry-After beyond the deadline fails fast with rate_limited and shares it", async () => {
  await using served = await serveSimulator({
    knobs: { tokenFailure: { mode: "rate_limited", retryAfterSeconds: 30 } },
  });
  const { tokens } = manager(served);
  await assert.rejects(
    tokens.getToken(OFFICE),
    (e: AqcError) => e.code === "rate_limited" && e.retryAfterSeconds === 30,
  );
  await assert.rejects(tokens.getToken(OFFICE), (e) => codeOf(e) === "rate_limited");
  assert.equal(served.simulator.counters.tokenRequests, 1);
});

Deno.test("office ids are validated before any network call", async () => {
  await using served = await serveSimulator();
  const { tokens } = manager(served);
  for (const bad of ["", "NCE", "NCE1A0955X", "../x", "NCE 1A095"]) {
    await assert.rejects(tokens.getToken(bad), (e) => codeOf(e) === "office_invalid");
  }
  assert.equal(served.simulator.counters.tokenRequests, 0);
});

Deno.test("invalidate is compare-and-delete and a refused token is never served again", async () => {
  const store = new MemoryTokenStore();
  await using served = await serveSimulator();
  const a = manager(served, { store }).tokens;
  const b = manager(served, { store }).tokens;
  const first = await a.getToken(OFFICE);
  assert.equal((await b.getToken(OFFICE)).accessToken, first.accessToken);
  assert.equal(await a.invalidate(OFFICE, "not-the-cached-token"), false);
  assert.equal((await a.getToken(OFFICE)).accessToken, first.accessToken);
  assert.equal(await a.invalidate(OFFICE, first.accessToken), true);
  const second = await a.getToken(OFFICE);
  assert.notEqual(second.accessToken, first.accessToken);
  // b still holds the first in L1; once told it failed, b adopts the newer one from L2.
  await b.invalidate(OFFICE, first.accessToken);
  assert.equal((await b.getToken(OFFICE)).accessToken, second.accessToken);
  // A stale invalidation of the first token no longer removes the second.
  assert.equal(await a.invalidate(OFFICE, first.accessToken), false);
  assert.equal((await a.getToken(OFFICE)).accessToken, second.accessToken);
  assert.equal(served.simulator.counters.tokenRequests, 2);
});

Deno.test("prewarm fetches missing and due tokens and reports per office", async () => {
  const time = clock();
  await using served = await serveSimulator({ now: time.now });
  const { tokens } = manager(served, { now: time.now });
  const results = await tokens.prewarm(["nce1a0955", "DELAI08AA", "bad"]);
  assert.deepEqual(results.map((r) => [r.officeId, r.ok, r.code]), [
    ["NCE1A0955", true, undefined],
    ["DELAI08AA", true, undefined],
    ["bad", false, "office_invalid"],
  ]);
  assert.equal(served.simulator.counters.tokenRequests, 2);
  await tokens.prewarm([OFFICE]); // fresh: nothing to do
  assert.equal(served.simulator.counters.tokenRequests, 2);
  time.advance(1_600_000); // due: prewarm refreshes and waits
  const [again] = await tokens.prewarm([OFFICE]);
  assert.equal(again.source, "endpoint");
  assert.equal(served.simulator.counters.tokenRequests, 3);
});

Deno.test("a caller's abort rejects only that caller", async () => {
  await using served = await serveSimulator({ knobs: { tokenLatencyMs: 300 } });
  const { tokens } = manager(served);
  const controller = new AbortController();
  const aborted = tokens.getToken(OFFICE, { signal: controller.signal });
  const patient = tokens.getToken(OFFICE);
  controller.abort(new DOMException("caller gave up", "AbortError"));
  await assert.rejects(aborted, (e: DOMException) => e.name === "AbortError");
  assert.equal((await patient).source, "endpoint");
  assert.equal(served.simulator.counters.tokenRequests, 1);
});

Deno.test("bad options fail at construction with config_invalid", () => {
  const good: Credentials = {
    apiUrl: "https://test.travel.api.amadeus.com",
    clientId: "id",
    clientSecret: "s",
  };
  const cases: Array<Partial<TokenManagerOptions>> = [
    { credentials: { ...good, apiUrl: "http://api.example.com" } },
    { credentials: { ...good, apiUrl: "ftp://x" } },
    { credentials: { ...good, clientId: "" } },
    { credentials: { ...good, clientSecret: "" } },
    { credentials: good, refreshAheadSeconds: -1 },
    { credentials: good, expirySkewSeconds: Number.NaN },
  ];
  for (const options of cases) {
    assert.throws(
      () => new TokenManager(options as TokenManagerOptions),
      (e) => codeOf(e) === "config_invalid",
    );
  }
  assert.doesNotThrow(() =>
    new TokenManager({ credentials: { ...good, apiUrl: "http://127.0.0.1:9" } })
  );
});

Deno.test("no secret or access token in any error, String(error) or event", async () => {
  const time = clock();
  await using served = await serveSimulator({ now: time.now });
  const events: TokenEvent[] = [];
  const errors: unknown[] = [];
  const make = (secret: string) =>
    new TokenManager({
      credentials: credentials(served, secret),
      now: time.now,
      retryDeadlineMs: 300,
      retryBaseDelayMs: 10,
      onEvent: (e) => events.push(e),
    });
  const good = make(DEFAULT_CLIENT_SECRET);
  const bad = make("a-wrong-secret-that-must-not-leak");
  const attempt = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (error) {
      errors.push(error);
    }
  };
  await attempt(good.getToken(OFFICE));
  await attempt(bad.getToken(OFFICE));
  for (
    const failure of [
      { mode: "status" as const, status: 500 },
      { mode: "rate_limited" as const, retryAfterSeconds: 5 },
      {
        mode: "malformed" as const,
        body: `{"access_token":"${"LeakyToken".repeat(3)}","token_type":"MAC","expires_in":1}`,
      },
      { mode: "reset" as const },
    ]
  ) {
    served.simulator.configure({ tokenFailure: { ...failure, offices: ["DELAI08AA"] } });
    time.advance(10_000);
    await attempt(good.getToken("DELAI08AA"));
  }
  await attempt(good.getToken("bad office"));
  assert.ok(errors.length >= 5);
  const secrets = [
    DEFAULT_CLIENT_SECRET,
    "a-wrong-secret-that-must-not-leak",
    "LeakyToken",
    ...served.simulator.issuedTokens.map((t) => t.accessToken),
  ];
  const texts = [
    ...errors.flatMap((
      e,
    ) => [String(e), (e as Error).message, JSON.stringify(e), (e as Error).stack ?? ""]),
    ...events.map((e) => JSON.stringify(e)),
    JSON.stringify(await good.getToken(OFFICE)),
  ];
  for (const secret of secrets) {
    for (const text of texts) {
      assert.ok(!text.includes(secret), `leak of a secret in: ${text.slice(0, 120)}`);
    }
  }
});

Deno.test("a peer that finishes between our L2 read and our lease: its token is adopted, no second request", async () => {
  await using served = await serveSimulator();
  const shared = new MemoryTokenStore();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  // Isolate B reads L2 (a miss), then its lease attempt is held back until A has fetched,
  // written and released: the window two isolates on two threads really do hit.
  const late = {
    read: (id: string) => shared.read(id),
    writeToken: (...a: Parameters<MemoryTokenStore["writeToken"]>) => shared.writeToken(...a),
    deleteToken: (id: string, token: string) => shared.deleteToken(id, token),
    writeFailure: (...a: Parameters<MemoryTokenStore["writeFailure"]>) => shared.writeFailure(...a),
    acquireLease: async (id: string, owner: string, ttlMs: number) => {
      await gate;
      return await shared.acquireLease(id, owner, ttlMs);
    },
    releaseLease: (id: string, owner: string) => shared.releaseLease(id, owner),
  };
  const a = manager(served, { store: shared });
  const b = manager(served, { store: late });
  const pending = b.tokens.getToken(OFFICE);
  const first = await a.tokens.getToken(OFFICE);
  open();
  const second = await pending;
  assert.equal(served.simulator.counters.tokenRequests, 1);
  assert.equal(second.accessToken, first.accessToken);
  assert.equal(second.source, "l2");
});

Deno.test("a token endpoint reflecting the secret into its error field does not get it echoed", async () => {
  // A secret of lower-case letters and underscores reads like an OAuth error name.
  const secret = "reflected_secret_value";
  await using served = await serveSimulator({ clients: { [DEFAULT_CLIENT_ID]: { secret } } });
  for (const status of [400, 401, 403]) {
    served.simulator.configure({
      tokenResponder: (_request, context) =>
        Response.json({ error: context.form.get("client_secret") }, { status }),
    });
    const { tokens } = manager(served, { credentials: credentials(served, secret) });
    const error = await tokens.getToken(OFFICE).catch((e) => e);
    // Not a registered OAuth error name: not an OAuth endpoint talking (#11.4).
    assert.equal(codeOf(error), "token_endpoint_misconfigured");
    for (const text of [String(error), JSON.stringify(error), Deno.inspect(error)]) {
      assert.ok(!text.includes(secret), `${status}: ${text}`);
    }
  }
  // A registered OAuth error name is still named.
  served.simulator.configure({ tokenResponder: null, tokenFailure: { mode: "invalid_client" } });
  const { tokens } = manager(served, { credentials: credentials(served, secret) });
  const error = await tokens.getToken(OFFICE).catch((e) => e);
  assert.match(String(error), /\(invalid_client\)/);
});

Deno.test("a refresh deferred to a peer looks at L2 again before its own token runs out", async () => {
  const time = clock();
  await using served = await serveSimulator({ now: time.now });
  const store = new MemoryTokenStore({ now: time.now });
  const { tokens, events } = manager(served, { store, now: time.now });
  const token = await tokens.getToken(OFFICE);
  // A peer holds the lease (it is refreshing); ours has 400 ms of use left.
  time.set(token.usableUntil - 400);
  const id = await tokenKeyId(credentials(served), OFFICE);
  assert.ok(await store.acquireLease(id, "peer-isolate", 60_000));
  await tokens.getToken(OFFICE);
  await tokens.whenIdle();
  const started = () => events.filter((e) => e.type === "refresh_started").length;
  assert.equal(started(), 2, "the endpoint fetch, then one background attempt that deferred");
  // Deferring 0.5–1.5 s would outlive the token; the next look comes halfway to its end.
  time.advance(300);
  await tokens.getToken(OFFICE);
  await tokens.whenIdle();
  assert.equal(started(), 3);
  assert.equal(served.simulator.counters.tokenRequests, 1, "the peer's refresh is awaited");
});
