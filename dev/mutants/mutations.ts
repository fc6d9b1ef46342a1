/**
 * The mutation list of `deno task mutants`: each entry breaks one core invariant in one
 * place and names the tests that must then fail. Keep `find` short and on the invariant's
 * own line, so a refactor that moves the code makes the mutation "not applicable" (to be
 * re-targeted here), never silently "caught".
 *
 * Every replacement must still type-check (strict, noUnusedLocals): a mutation that does not
 * compile is reported "invalid", not caught.
 *
 * @module
 */
import type { Mutation } from "./types.ts";

const MANAGER = "src/token/manager.ts";
const ADOPT = "src/token/adopt.ts";
const SHARED = "src/token/shared_cache.ts";
const SCHEDULE = "src/token/schedule.ts";
const VIEWS = "src/token/views.ts";
const RETRY = "src/token/retry.ts";
const BREAKER = "src/token/breaker.ts";
const ISSUER = "src/token/issuer.ts";
const OFFICES = "src/token/offices.ts";
const ANSWER = "src/fetch/upstream_answer.ts";
const REQUEST_POLICY = "src/gateway/request_policy.ts";
const PATH_POLICY = "src/gateway/path_policy.ts";
const REQUEST = "src/token/request.ts";
const UPSTASH = "src/store/upstash_store.ts";
const MEMORY = "src/store/memory_store.ts";
const SEAL = "src/store/seal.ts";
const AQC_FETCH = "src/fetch/aqc_fetch.ts";
const AQC_PATH = "src/fetch/aqc_path.ts";
const HEADERS = "src/gateway/headers.ts";
const CALLER_AUTH = "src/gateway/caller_auth.ts";

const T = {
  fastPath: "tests/gateway_fast_path_test.ts",
  bodyLimit: "src/gateway/body_limit_test.ts",
  bodyAbuse: "tests/gateway_body_abuse_test.ts",
  deadStore: "tests/redteam_dead_store_test.ts",
  readAtMost: "src/read_at_most_test.ts",
  warmAuth: "tests/gateway_warm_auth_test.ts",
  aqcPath: "tests/aqc_path_test.ts",
  timeoutsAlive: "tests/aqc_fetch_timeout_test.ts",
  manager: "tests/token_manager_test.ts",
  fleet: "tests/fleet_test.ts",
  store: "tests/upstash_store_test.ts",
  aqcFetch: "tests/aqc_fetch_test.ts",
  aqcFetchReplay: "tests/aqc_fetch_replay_test.ts",
  storeForgets: "tests/store_forgets_test.ts",
  upstreamTimeout: "tests/upstream_timeout_test.ts",
  path: "tests/aqc_path_test.ts",
  office: "tests/office_test.ts",
  callerAuth: "tests/caller_auth_test.ts",
  gateway: "tests/gateway_test.ts",
  headers: "tests/gateway_headers_test.ts",
  tokenResponse: "tests/token_response_test.ts",
  security: "tests/security_test.ts",
  // The tests of issue #17.
  sealingIv: "tests/sealing_iv_test.ts",
  servedOffices: "tests/gateway_served_offices_test.ts",
  callerAuthorization: "tests/gateway_caller_authorization_test.ts",
  refusedToken: "tests/refused_token_test.ts",
  storeTimeout: "tests/store_timeout_test.ts",
  expiryAnchor: "tests/expiry_anchor_test.ts",
  leaseRelease: "tests/lease_release_test.ts",
  tokenTimeout: "tests/token_request_timeout_test.ts",
  // The invariants of the token/gateway/store splits.
  schedule: "src/token/schedule_test.ts",
  retry: "src/token/retry_test.ts",
  breaker: "src/token/breaker_test.ts",
  offices: "src/token/offices_test.ts",
  seal: "src/store/seal_test.ts",
  pathPolicy: "src/gateway/path_policy_test.ts",
  requestPolicy: "src/gateway/request_policy_test.ts",
  abuse: "tests/token_abuse_test.ts",
  classification: "tests/token_classification_test.ts",
  freshRead: "tests/token_fresh_read_test.ts",
  production: "tests/upstash_production_test.ts",
  aqcFetch401: "tests/aqc_fetch_401_test.ts",
  aqcFetchAnswer: "tests/aqc_fetch_answer_test.ts",
  edge: "tests/gateway_edge_test.ts",
} as const;

/** The mutations, in the order of the table. */
export const MUTATIONS: readonly Mutation[] = [
  // --- single flight ---------------------------------------------------------------
  {
    name: "single-flight-in-isolate",
    kind: "single flight",
    file: MANAGER,
    find: "if (entry.flight !== undefined) return entry.flight.promise;",
    replace: "// (mutant: every caller starts its own refresh)",
    tests: [T.manager],
  },
  {
    name: "lease-refusal-ignored",
    kind: "single flight",
    file: SHARED,
    find: "if (leased.ok && !leased.value) {",
    replace: "if (leased.ok && !leased.value && leased.value) {",
    tests: [T.manager, T.fleet],
  },
  {
    name: "upstash-lease-not-exclusive",
    kind: "lease",
    file: UPSTASH,
    find: `"NX", "PX", ARGV[2]) then return 1 end`,
    replace: `"PX", ARGV[2]) then return 1 end`,
    tests: [T.store, T.fleet],
  },
  {
    name: "memory-lease-not-exclusive",
    kind: "lease",
    file: MEMORY,
    find: "if (holder !== undefined && holder !== owner) return Promise.resolve(false);",
    replace: `if (holder === "mutant") return Promise.resolve(false);`,
    tests: [T.manager],
  },
  {
    name: "upstash-lease-release-not-compared",
    kind: "lease",
    file: UPSTASH,
    find: `if redis.call("GET", KEYS[1]) == ARGV[1] then\n  return redis.call("DEL", KEYS[1])`,
    replace: `if true then\n  return redis.call("DEL", KEYS[1])`,
    tests: [T.store],
  },
  {
    name: "lease-not-released",
    kind: "lease release",
    file: SHARED,
    find: "(store) => store.releaseLease(id, this.#owner())",
    replace: "() => Promise.resolve()",
    tests: [T.leaseRelease],
  },
  {
    name: "no-double-check-after-lease",
    kind: "single flight",
    file: SHARED,
    find: "const again = await judge(true);",
    replace: "const again = undefined as PeerVerdict;",
    tests: [T.manager],
  },
  // --- refresh window, skew, stale-if-error -----------------------------------------
  {
    name: "no-refresh-ahead",
    kind: "refresh window",
    file: SCHEDULE,
    find: "refreshAt: Math.min(token.expiresAt - Math.max(lead, skew), usableUntil),",
    replace: "refreshAt: usableUntil + 0 * lead,",
    tests: [T.schedule, T.manager],
  },
  {
    name: "no-background-refresh",
    kind: "refresh window",
    file: MANAGER,
    find: "this.#refreshInBackground(entry, now, options?.waitUntil);",
    replace: "void this.#refreshInBackground;",
    tests: [T.manager],
  },
  {
    name: "no-expiry-skew",
    kind: "skew",
    file: SCHEDULE,
    find: "return Math.min(token.usableUntil, token.expiresAt - Math.min(skewMs, lifetime / 4));",
    replace:
      "return Math.min(token.usableUntil, token.expiresAt - 0 * Math.min(skewMs, lifetime / 4));",
    tests: [T.schedule, T.manager],
  },
  {
    name: "token-served-past-usable-until",
    kind: "skew",
    file: MANAGER,
    find: "if (now < cached.stored.usableUntil) {\n        this.#refreshInBackground",
    replace: "if (now < Infinity) {\n        this.#refreshInBackground",
    tests: [T.manager],
  },
  {
    name: "no-stale-if-error",
    kind: "stale-if-error",
    file: MANAGER,
    find: "entry.backgroundFailures++;",
    // Through a cast: assigned directly, TypeScript narrows `entry.token` to `undefined` and
    // the runway line below no longer type-checks.
    replace:
      "entry.backgroundFailures++;\n        (entry as { token?: unknown }).token = undefined;",
    tests: [T.manager, T.storeForgets],
  },
  // --- 401 replay and compare-and-delete --------------------------------------------
  {
    name: "no-401-replay",
    kind: "401 replay",
    file: AQC_FETCH,
    find: "if (response.status !== 401) return answer(response);",
    replace: "if (response.status !== 401 || method.length > 0) return answer(response);",
    tests: [T.aqcFetch],
  },
  {
    name: "401-token-not-invalidated",
    kind: "401 replay",
    file: AQC_FETCH,
    find: "await tokens.invalidate(officeId, first.accessToken);",
    replace: "void tokens.invalidate;",
    tests: [T.aqcFetch],
  },
  {
    name: "401-replayed-with-the-refused-token",
    kind: "401 replay",
    file: AQC_FETCH,
    find: "if (fresh.accessToken === first.accessToken) return answer(response);",
    replace: `if (fresh.accessToken === "" && first.accessToken === "") return answer(response);`,
    tests: [T.aqcFetch, T.aqcFetchReplay],
  },
  {
    name: "invalidate-not-compared",
    kind: "compare-and-delete",
    file: MANAGER,
    find: "if (entry.token?.stored.accessToken === accessToken) {",
    replace: "if (entry.token !== undefined) {",
    tests: [T.manager],
  },
  {
    name: "upstash-delete-not-compared",
    kind: "compare-and-delete",
    file: UPSTASH,
    find: "if v and string.sub(v, 1, #ARGV[k]) == ARGV[k] then",
    replace: "if v then",
    tests: [T.store],
  },
  {
    name: "memory-delete-not-compared",
    kind: "compare-and-delete",
    file: MEMORY,
    find:
      "if (token === undefined || token.accessToken !== accessToken) return Promise.resolve(false);",
    replace: "if (token === undefined || accessToken.length < 0) return Promise.resolve(false);",
    tests: [T.manager],
  },
  {
    name: "refused-token-readopted",
    kind: "refused-token re-adoption",
    file: ADOPT,
    find: "token !== undefined && !entry.rejected.includes(token.accessToken) &&",
    replace: "token !== undefined &&",
    tests: [T.refusedToken],
  },
  {
    // The code before the fix: the refusal was recorded once the compare-and-delete returned.
    name: "refusal-recorded-after-delete",
    kind: "refused-token re-adoption",
    file: MANAGER,
    find: "reject(entry, accessToken);\n    const id = await this.#id(entry);",
    replace: "const id = await this.#id(entry);",
    also: [{
      file: MANAGER,
      find: "if (evicted) entry.evictedAt = now;",
      replace:
        "if (evicted) {\n      reject(entry, accessToken);\n      entry.evictedAt = now;\n    }",
    }],
    tests: [T.refusedToken],
  },
  // --- sealing ----------------------------------------------------------------------
  {
    name: "sealing-without-aad",
    kind: "sealing AAD",
    file: SEAL,
    // The record's Redis key leaves the authenticated data: a record copied under another
    // office's key opens there. (redisKey stays used: noUnusedParameters.)
    find: "\\0${redisKey}\\0",
    replace: "\\0${redisKey.slice(0, 0)}\\0",
    tests: [T.store],
  },
  {
    name: "constant-iv",
    kind: "constant IV",
    file: SEAL,
    find: "const iv = crypto.getRandomValues(new Uint8Array(12));",
    replace: "const iv = new Uint8Array(12);",
    tests: [T.sealingIv],
  },
  {
    name: "zero-iv-accepted",
    kind: "constant IV",
    file: SEAL,
    find: "iv.length !== 12 || iv.every((b) => b === 0) ||",
    replace: "iv.length !== 12 ||",
    tests: [T.sealingIv, T.seal],
  },
  // --- office ids, keys, AQC_OFFICES ------------------------------------------------
  {
    name: "office-not-upper-cased",
    kind: "office normalisation",
    file: "src/office.ts",
    find: "const normalized = officeId.trim().toUpperCase();",
    replace: "const normalized = officeId.trim();",
    tests: [T.office],
  },
  {
    name: "office-pattern-unanchored",
    kind: "office normalisation",
    file: "src/office.ts",
    find: "const OFFICE_PATTERN = /^[A-Z]{3}[A-Z0-9]{6}$/;",
    replace: "const OFFICE_PATTERN = /^[A-Z]{3}[A-Z0-9]{6}/;",
    tests: [T.office],
  },
  {
    name: "office-non-ascii-accepted",
    kind: "office normalisation",
    file: "src/office.ts",
    find: "!/^[\\x20-\\x7e]*$/.test(officeId.trim()) || ",
    replace: "",
    tests: [T.office],
  },
  {
    name: "key-offices-ignored",
    kind: "key allowlists",
    file: CALLER_AUTH,
    find: `return key.offices === "*" || key.offices.has(officeId);`,
    replace: "return key.offices !== undefined;",
    tests: [T.gateway],
  },
  {
    name: "any-gateway-key-accepted",
    kind: "key allowlists",
    file: CALLER_AUTH,
    find: "found = diff === 0 ? key : found;",
    replace: "found = diff >= 0 ? key : found;",
    tests: [T.callerAuth],
  },
  {
    name: "aqc-offices-ignored",
    kind: "AQC_OFFICES",
    file: CALLER_AUTH,
    find: "if (served !== undefined && !served.includes(officeId)) return false;",
    replace: "// (mutant: AQC_OFFICES not enforced)",
    tests: [T.servedOffices],
  },
  // --- path spellings ---------------------------------------------------------------
  {
    name: "dot-segments-allowed",
    kind: "path spellings",
    file: AQC_PATH,
    find: "if (DOT_SEGMENT.test(text)) throw",
    replace: `if (DOT_SEGMENT.test(text) && text === "") throw`,
    tests: [T.path],
  },
  {
    name: "encoded-path-not-decoded",
    kind: "path spellings",
    file: AQC_PATH,
    find: "round < DECODE_ROUNDS && spellings[round].includes",
    replace: "round < 0 && spellings[round].includes",
    tests: [T.path],
  },
  {
    name: "empty-segments-allowed",
    kind: "path spellings",
    file: AQC_PATH,
    find: `if (text.includes("//")) throw refuse("must not contain empty segments or URLs");`,
    replace: "",
    tests: [T.path],
  },
  // --- header filtering -------------------------------------------------------------
  {
    name: "caller-authorization-forwarded",
    kind: "header filtering",
    file: HEADERS,
    find: "if (REQUEST_ALLOWED.has(name) || isAmadeusHeader(name)) out.push",
    replace:
      `if (REQUEST_ALLOWED.has(name) || isAmadeusHeader(name) || name === "authorization") out.push`,
    // The end-to-end test alone does not catch it: createAqcFetch replaces the header too.
    tests: [T.headers, T.callerAuthorization],
  },
  {
    name: "request-allowlist-lets-x-headers-through",
    kind: "header allowlists",
    file: HEADERS,
    find: "if (REQUEST_ALLOWED.has(name) || isAmadeusHeader(name)) out.push",
    replace:
      `if (REQUEST_ALLOWED.has(name) || isAmadeusHeader(name) || name.startsWith("x-")) out.push`,
    tests: [T.headers, T.edge, T.gateway],
  },
  {
    name: "request-allowlist-lets-cookie-through",
    kind: "header allowlists",
    file: HEADERS,
    find: "if (REQUEST_ALLOWED.has(name) || isAmadeusHeader(name)) out.push",
    replace:
      `if (REQUEST_ALLOWED.has(name) || isAmadeusHeader(name) || name === "cookie") out.push`,
    tests: [T.headers, T.edge, T.gateway],
  },
  {
    name: "response-allowlist-lets-set-cookie-through",
    kind: "header allowlists",
    file: HEADERS,
    find: "if (!RESPONSE_ALLOWED.has(name) && !isAmadeusHeader(name)) return;",
    replace:
      `if (!RESPONSE_ALLOWED.has(name) && !isAmadeusHeader(name) && name !== "set-cookie") return;`,
    tests: [T.headers, T.edge],
  },
  {
    name: "response-allowlist-lets-cors-through",
    kind: "header allowlists",
    file: HEADERS,
    find: "if (!RESPONSE_ALLOWED.has(name) && !isAmadeusHeader(name)) return;",
    replace:
      `if (!RESPONSE_ALLOWED.has(name) && !isAmadeusHeader(name) && !name.startsWith("access-control-")) return;`,
    tests: [T.headers, T.edge],
  },
  {
    name: "bearer-echo-header-forwarded",
    kind: "secret echo",
    file: HEADERS,
    find: 'if (bearer !== "" && value.includes(bearer)) return;',
    replace: 'if (bearer === "\\0" && value.includes(bearer)) return;',
    tests: [T.headers, T.aqcFetchAnswer],
  },
  // --- negative cache, retries, Retry-After -----------------------------------------
  {
    name: "no-negative-cache",
    kind: "negative cache",
    file: MANAGER,
    find: "if (flight === undefined && entry.failure !== undefined && now < entry.failure.until) {",
    replace: "if (flight === undefined && entry.failure !== undefined && now < 0) {",
    tests: [T.manager, T.storeForgets],
  },
  {
    name: "rejected-credentials-held-briefly",
    kind: "negative cache",
    file: VIEWS,
    find: `=== "credentials_rejected"\n    ? holds.rejectedMs`,
    replace: `=== "credentials_rejected"\n    ? holds.transientMs + 0 * holds.rejectedMs`,
    tests: [T.manager, T.fleet],
  },
  {
    name: "shared-failure-not-written",
    kind: "negative cache",
    file: SHARED,
    // The awaited write (a store that answers); the background one follows a timeout.
    find: "else await this.writeFailure(officeId, id, failure);",
    replace: "else void failure;",
    tests: [T.fleet],
  },
  {
    name: "retry-after-ignored",
    kind: "Retry-After",
    file: RETRY,
    find: "pause = Math.max(pause, error.retryAfterSeconds * 1000);",
    replace: "pause = Math.max(pause, 0);",
    tests: [T.retry, T.manager],
  },
  {
    name: "retry-after-seconds-unparsed",
    kind: "Retry-After",
    file: "src/token/retry_after.ts",
    find: "if (/^\\d+$/.test(text)) return Math.min(Number(text), MAX_RETRY_AFTER_S);",
    replace: "",
    tests: [T.manager],
  },
  {
    name: "no-retry-on-5xx",
    kind: "retries",
    file: BREAKER,
    find: `return code === "token_endpoint_unavailable" || code === "rate_limited";`,
    replace: `return code === "config_invalid" || code === "rate_limited";`,
    tests: [T.retry, T.manager],
  },
  {
    name: "credentials-rejected-retried",
    kind: "retries",
    file: BREAKER,
    find: `code === "rate_limited";\n}`,
    replace: `code === "rate_limited" || code === "credentials_rejected";\n}`,
    tests: [T.manager],
  },
  {
    name: "retry-deadline-ignored",
    kind: "timeouts",
    file: RETRY,
    find: "const willRetry = isRetryableCode(error.code) && clock() + pause < lastStart;",
    replace: "const willRetry = isRetryableCode(error.code);",
    tests: [T.retry, T.tokenTimeout],
  },
  {
    name: "retry-sent-with-no-time-left",
    kind: "timeouts",
    file: RETRY,
    find: "const willRetry = isRetryableCode(error.code) && clock() + pause < lastStart;",
    replace: "const willRetry = isRetryableCode(error.code) && clock() + pause < deadline;",
    tests: [T.retry],
  },
  {
    name: "gate-waited-to-the-deadline",
    kind: "timeouts",
    file: RETRY,
    find: "if (clock() + admission.waitMs >= lastStart) throw admission.error;",
    replace: "if (clock() + admission.waitMs >= deadline) throw admission.error;",
    tests: [T.retry],
  },
  // --- timeouts ---------------------------------------------------------------------
  {
    name: "token-request-no-timeout",
    kind: "timeouts",
    file: REQUEST,
    find: "const timeout = AbortSignal.timeout(options.timeoutMs ?? 5_000);",
    replace: "const timeout = new AbortController().signal;",
    tests: [T.tokenTimeout],
  },
  {
    name: "upstream-no-timeout",
    kind: "timeouts",
    file: AQC_FETCH,
    find: "const timeoutMs = init.timeoutMs ?? defaultTimeoutMs;",
    // Still through the shared timeouts (noUnusedLocals), but about 23 days long.
    replace: "const timeoutMs = 2_000_000_000 + 0 * (init.timeoutMs ?? defaultTimeoutMs);",
    tests: [T.upstreamTimeout],
  },
  {
    name: "store-call-unbounded",
    kind: "manager store timeout",
    file: SHARED,
    find: "Promise.race([call(this.#store), timeout])",
    replace: "Promise.race([call(this.#store), timeout.catch(() => new Promise<never>(() => {}))])",
    tests: [T.storeTimeout],
  },
  // --- expiry anchor ----------------------------------------------------------------
  {
    name: "expiry-anchored-to-reply",
    kind: "expiry anchor",
    file: REQUEST,
    find: "issuedAt,\n      expiresAt: issuedAt + token.expiresInSeconds * 1000,",
    replace:
      "issuedAt: Math.max(issuedAt, now()),\n      expiresAt: Math.max(issuedAt, now()) + token.expiresInSeconds * 1000,",
    tests: [T.expiryAnchor],
  },
  // --- token response validation ----------------------------------------------------
  {
    name: "token-type-unchecked",
    kind: "token validation",
    file: REQUEST,
    find: `|| tokenType.toLowerCase() !== "bearer") {`,
    replace: ") {",
    tests: [T.tokenResponse],
  },
  {
    name: "lifetime-uncapped",
    kind: "token validation",
    file: REQUEST,
    find: "expiresInSeconds: Math.min(expiresIn, MAX_TOKEN_LIFETIME_S)",
    replace: "expiresInSeconds: expiresIn",
    tests: [T.tokenResponse],
  },
  {
    name: "state-unchecked",
    kind: "token validation",
    file: REQUEST,
    find: `record.state !== "approved"`,
    replace: `record.state === "mutant"`,
    tests: [T.tokenResponse],
  },
  // --- secret echo ------------------------------------------------------------------
  {
    name: "oauth-error-echoed-unchecked",
    kind: "secret echo",
    file: REQUEST,
    find: "answered ${status} without an OAuth error: check the API URL`,",
    // The unregistered error name (an endpoint may reflect the form, secret included) in
    // the message.
    replace: "answered ${status} (${error}) without an OAuth error: check the API URL`,",
    tests: [T.manager],
  },
  {
    name: "access-token-enumerable",
    kind: "secret echo",
    file: VIEWS,
    find:
      `Object.defineProperty(view, "accessToken", { value: token.accessToken, enumerable: false });`,
    replace:
      `Object.defineProperty(view, "accessToken", { value: token.accessToken, enumerable: true });`,
    tests: [T.manager, T.security],
  },
  // --- gateway limits ---------------------------------------------------------------
  {
    name: "body-limit-ignored",
    kind: "gateway limits",
    file: "src/gateway/create_gateway.ts",
    // Both ways in share `readBody`; the fast path's refusal has its own mutation.
    find: "readBodyWithin(request, config.maxBodyBytes, deadline.signal)",
    replace: "readBodyWithin(request, config.maxBodyBytes * 1024, deadline.signal)",
    tests: [T.gateway],
  },
  // --- budgets: eviction window, bounded offices, new-office budget, breaker -------
  {
    name: "non-token-401-evicts",
    kind: "401 classification",
    file: AQC_FETCH,
    find: "if (!(await isTokenRejection(response, decoded))) return answer(response);",
    replace:
      `if (!(await isTokenRejection(response, decoded)) && method === "") return answer(response);`,
    tests: [T.aqcFetch401, T.edge],
  },
  {
    name: "any-bearer-challenge-evicts",
    kind: "401 classification",
    file: ANSWER,
    find: "if (INVALID_TOKEN_CHALLENGE.test(challenge)) return true;",
    replace: "return true;",
    tests: [T.aqcFetch401],
  },
  {
    name: "eviction-window-ignored",
    kind: "eviction window",
    file: MANAGER,
    find: "now - entry.evictedAt < this.#o.evictionWindowMs) {",
    replace: "now < 0 * this.#o.evictionWindowMs) {",
    tests: [T.abuse],
  },
  {
    name: "offices-unbounded",
    kind: "bounded offices",
    file: OFFICES,
    find: "while (this.#entries.size > this.#max) {",
    replace: "while (this.#entries.size > this.#max * 1_000_000) {",
    tests: [T.offices, T.abuse],
  },
  {
    name: "new-office-budget-ignored",
    kind: "new-office budget",
    file: ISSUER,
    find: "if (waitMs === 0) return undefined;",
    replace: "if (waitMs >= 0) return undefined;",
    tests: [T.abuse],
  },
  {
    name: "breaker-never-opens",
    kind: "circuit breaker",
    file: BREAKER,
    find:
      "if (asked === 0 && this.#opens === 0 && this.#consecutive < this.#threshold) return false;",
    replace: "if (asked >= 0) return false;",
    tests: [T.breaker, T.abuse],
  },
  {
    name: "breaker-ignores-retry-after",
    kind: "circuit breaker",
    file: BREAKER,
    find:
      "const asked = error.retryAfterSeconds === undefined ? 0 : error.retryAfterSeconds * 1000;",
    replace: "const asked = 0 * (error.retryAfterSeconds ?? 0);",
    tests: [T.breaker, T.abuse],
  },
  // --- token endpoint classification ------------------------------------------------
  {
    name: "non-oauth-4xx-not-misconfigured",
    kind: "token classification",
    file: REQUEST,
    find: '"token_endpoint_misconfigured",\n    `Token endpoint answered ${status} without',
    replace: '"token_endpoint_unavailable",\n    `Token endpoint answered ${status} without',
    tests: [T.classification],
  },
  {
    name: "misconfigured-held-like-rejected-credentials",
    kind: "negative cache",
    file: VIEWS,
    find: `error.code === "token_request_rejected"\n    ? holds.misconfiguredMs`,
    replace:
      `error.code === "token_request_rejected"\n    ? holds.rejectedMs + 0 * holds.misconfiguredMs`,
    tests: [T.classification],
  },
  // --- fresh reads, shared failure cap, key names -----------------------------------
  {
    name: "peer-poll-not-fresh",
    kind: "fresh reads",
    file: SHARED,
    find: "const read = await this.read(officeId, id, true);",
    replace: "const read = await this.read(officeId, id, false);",
    tests: [T.freshRead],
  },
  {
    name: "double-check-not-fresh",
    kind: "fresh reads",
    file: SHARED,
    find: "const again = await judge(true);",
    replace: "const again = await judge(false);",
    tests: [T.freshRead],
  },
  {
    name: "upstash-fresh-read-on-replica",
    kind: "fresh reads",
    file: UPSTASH,
    find:
      "options.fresh === true ? this.#redis.eval(FRESH_READ, keys, []) : this.#redis.mget(...keys)",
    replace:
      "options.fresh === (FRESH_READ.length < 0) ? this.#redis.eval(FRESH_READ, keys, []) : this.#redis.mget(...keys)",
    tests: [T.production],
  },
  {
    name: "shared-failure-until-uncapped",
    kind: "failure record cap",
    file: UPSTASH,
    find: "until: Math.min(u, now + MAX_SHARED_FAILURE_MS),",
    replace: "until: u + 0 * now,",
    tests: [T.production],
  },
  {
    name: "key-name-unkeyed",
    kind: "keyed key names",
    file: SEAL,
    find:
      `const mac = await crypto.subtle.sign("HMAC", key.names, encoder.encode(id));\n  return encodeBase64Url(new Uint8Array(mac));`,
    // The entry id (a plain hash of the credentials) becomes the name.
    replace: "void key;\n  return id;",
    tests: [T.production, T.store],
  },
  // --- request path shortcuts (#13) ------------------------------------------------
  {
    name: "fast-path-takes-encoded-office",
    kind: "fast path",
    file: "src/gateway/fast_path.ts",
    find: 'if (office.includes("%") || office.includes("?")',
    replace: 'if (office.includes("?")',
    tests: [T.fastPath],
  },
  {
    name: "fast-path-skips-body-limit",
    kind: "body limit",
    file: "src/gateway/create_gateway.ts",
    find: "return labelRequest(refusedBody(body), proxied.requestId);",
    replace: "return await proxy({ ...proxied, body: null });",
    tests: [T.fastPath, T.warmAuth],
  },
  {
    name: "body-limit-trusts-length-beside-chunked",
    kind: "body limit",
    file: "src/gateway/body_limit.ts",
    find: '!headers.has("transfer-encoding")',
    replace: "true",
    tests: [T.bodyLimit],
  },
  {
    name: "body-reader-keeps-chunks",
    kind: "body limit",
    file: "src/read_at_most.ts",
    find: "buffer.set(value, size);",
    // The chunks stay referenced, as when the reader kept a list of them.
    replace:
      "buffer.set(value, size);\n      ((globalThis as { kept?: Uint8Array[] }).kept ??= []).push(value);",
    tests: [T.bodyAbuse],
  },
  {
    name: "body-buffer-allocated-as-declared",
    kind: "body limit",
    file: "src/read_at_most.ts",
    find: "Math.min(limit, expected ?? FIRST_BUFFER, MAX_FIRST_BUFFER)",
    replace: "Math.min(limit, expected ?? FIRST_BUFFER + 0 * MAX_FIRST_BUFFER)",
    tests: [T.readAtMost],
  },
  {
    name: "body-reader-returns-view",
    kind: "body limit",
    file: "src/read_at_most.ts",
    find: "return size === buffer.byteLength ? buffer : buffer.slice(0, size);",
    replace: "return buffer.subarray(0, size);",
    tests: [T.readAtMost],
  },
  {
    name: "tail-always-in-background",
    kind: "store tail",
    file: "src/token/shared_cache.ts",
    find: "const slow = (): boolean => this.#timeouts !== timeoutsBefore;",
    replace:
      "const slow = (): boolean => this.#timeouts === this.#timeouts + 0 || timeoutsBefore < 0;",
    tests: [T.deadStore],
  },
  {
    name: "invalidate-overtakes-tail",
    kind: "store tail",
    file: "src/token/manager.ts",
    find: "if (tail !== undefined) await tail;\n    evicted = await",
    replace: "evicted = await",
    tests: [T.deadStore],
  },
  {
    name: "tail-outside-wait-until",
    kind: "store tail",
    file: "src/token/manager.ts",
    find: "waitUntil(pending.then(tail, tail).catch(() => undefined));",
    replace: "waitUntil(pending.catch(() => undefined));",
    tests: [T.deadStore],
  },
  {
    name: "bytes-body-not-copied",
    kind: "request bodies",
    file: AQC_FETCH,
    find: "? new Uint8Array(raw)",
    replace: "? raw",
    tests: ["tests/aqc_fetch_body_test.ts"],
  },
  {
    name: "remembered-path-skips-fragment-check",
    kind: "remembered paths",
    file: "src/fetch/aqc_path.ts",
    find: 'if (root.accepted.has(pathname) && !path.includes("#")) return root.base + path;',
    replace: "if (root.accepted.has(pathname)) return root.base + path;",
    tests: [T.aqcPath],
  },
  {
    name: "grain-listens-forever",
    kind: "shared timeouts",
    file: "src/fetch/timeouts.ts",
    find: 'this.signal.removeEventListener("abort", this.#onAbort);',
    replace: "void this.#onAbort;",
    tests: [T.timeoutsAlive],
  },
  // --- gateway request policy -------------------------------------------------------
  {
    name: "security-path-served",
    kind: "/v1/security refusal",
    file: "src/gateway/proxy.ts",
    find: "if (paths.isSecurityPath(path)) {",
    replace: `if (paths.isSecurityPath(path) && path === "") {`,
    tests: [T.edge],
  },
  {
    name: "security-path-case-sensitive",
    kind: "/v1/security refusal",
    file: PATH_POLICY,
    find: `const segments = pathname.toLowerCase().split("/");`,
    replace: `const segments = pathname.split("/");`,
    tests: [T.pathPolicy, T.edge],
  },
  {
    name: "request-id-from-caller",
    kind: "request id",
    file: REQUEST_POLICY,
    find: "const id = crypto.randomUUID();",
    replace: `const id = c.req.header("x-request-id") ?? crypto.randomUUID();`,
    tests: [T.edge, T.requestPolicy],
  },
  {
    name: "any-method-served",
    kind: "405",
    file: REQUEST_POLICY,
    find: "if (!ALLOWED_METHODS.has(c.req.method)) {",
    replace: `if (!ALLOWED_METHODS.has(c.req.method) && c.req.method === "") {`,
    tests: [T.edge, T.requestPolicy],
  },
  {
    name: "dot-semicolon-segments-allowed",
    kind: "path spellings",
    file: AQC_PATH,
    find: "const DOT_SEGMENT = /(?:^|\\/)\\.\\.?(?:[/;]|$)/;",
    replace: "const DOT_SEGMENT = /(?:^|\\/)\\.\\.?(?:\\/|$)/;",
    tests: [T.path],
  },
  {
    name: "decoded-answer-keeps-content-encoding",
    kind: "compression relabel",
    file: ANSWER,
    find: `headers.delete("content-encoding");`,
    replace: "",
    tests: [T.aqcFetchAnswer, T.edge],
  },
];
