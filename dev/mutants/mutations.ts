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
const REQUEST = "src/token/request.ts";
const UPSTASH = "src/store/upstash_store.ts";
const MEMORY = "src/store/memory_store.ts";
const SEAL = "src/store/seal.ts";
const AQC_FETCH = "src/fetch/aqc_fetch.ts";
const AQC_PATH = "src/fetch/aqc_path.ts";
const HEADERS = "src/gateway/headers.ts";
const CALLER_AUTH = "src/gateway/caller_auth.ts";

const T = {
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
    file: MANAGER,
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
    file: MANAGER,
    find: "(store) => store.releaseLease(id, this.#owner),",
    replace: "() => Promise.resolve(),",
    tests: [T.leaseRelease],
  },
  {
    name: "no-double-check-after-lease",
    kind: "single flight",
    file: MANAGER,
    find: "const again = await this.#readShared(entry, id);",
    replace: "const again = undefined as AccessToken | AqcError | undefined;",
    tests: [T.manager],
  },
  // --- refresh window, skew, stale-if-error -----------------------------------------
  {
    name: "no-refresh-ahead",
    kind: "refresh window",
    file: MANAGER,
    find: "refreshAt: Math.min(token.expiresAt - Math.max(lead, skew), usableUntil),",
    replace: "refreshAt: usableUntil + 0 * lead,",
    tests: [T.manager],
  },
  {
    name: "no-background-refresh",
    kind: "refresh window",
    file: MANAGER,
    find: "this.#refreshInBackground(entry, now, options.waitUntil);",
    replace: "void this.#refreshInBackground;",
    tests: [T.manager],
  },
  {
    name: "no-expiry-skew",
    kind: "skew",
    file: MANAGER,
    find: "const usableUntil = Math.min(token.usableUntil, token.expiresAt - skew);",
    replace: "const usableUntil = Math.min(token.usableUntil, token.expiresAt - 0 * skew);",
    tests: [T.manager],
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
    replace: "entry.backgroundFailures++;\n        entry.token = undefined;",
    tests: [T.manager, T.storeForgets],
  },
  // --- 401 replay and compare-and-delete --------------------------------------------
  {
    name: "no-401-replay",
    kind: "401 replay",
    file: AQC_FETCH,
    find: "if (response.status !== 401) return response;",
    replace: "if (response.status !== 401 || method.length > 0) return response;",
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
    find: "if (fresh.accessToken === first.accessToken) return response;",
    replace: "// (mutant: replays even with the same token)",
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
    find: `if string.sub(v, 1, #ARGV[i]) == ARGV[i] then return redis.call("DEL", KEYS[1]) end`,
    replace: `return redis.call("DEL", KEYS[1])`,
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
    file: MANAGER,
    find: "if (token === undefined || token.accessToken === entry.rejected) return false;",
    replace: "if (token === undefined) return false;",
    tests: [T.refusedToken],
  },
  // --- sealing ----------------------------------------------------------------------
  {
    name: "sealing-without-aad",
    kind: "sealing AAD",
    file: SEAL,
    find: `{ name: "AES-GCM", iv, additionalData: encoder.encode(redisKey) },\n    key.aes,`,
    // An empty AAD is the same as none; redisKey stays used (noUnusedParameters).
    replace:
      `{ name: "AES-GCM", iv, additionalData: encoder.encode(redisKey.slice(0, 0)) },\n    key.aes,`,
    also: [{
      file: SEAL,
      find: `{ name: "AES-GCM", iv, additionalData: encoder.encode(redisKey) },\n      key.aes,`,
      replace:
        `{ name: "AES-GCM", iv, additionalData: encoder.encode(redisKey.slice(0, 0)) },\n      key.aes,`,
    }],
    tests: [T.store],
  },
  {
    name: "constant-iv",
    kind: "constant IV",
    file: SEAL,
    find: "const iv = crypto.getRandomValues(new Uint8Array(12));",
    replace: "const iv = new Uint8Array(12);",
    tests: [T.sealingIv],
    // The all-zero-IV refusal test in that file fails on this branch (see the report).
    filter: "two seals",
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
    find: "round < 3 && spellings[round].includes",
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
    find: `new Set(["authorization", "host",`,
    replace: `new Set(["host",`,
    // The end-to-end test alone does not catch it: createAqcFetch replaces the header too.
    tests: [T.headers, T.callerAuthorization],
  },
  {
    name: "hop-by-hop-request-headers-forwarded",
    kind: "header filtering",
    file: HEADERS,
    find: "if (HOP_BY_HOP.has(name) || REQUEST_OWNED.has(name) || named.has(name)) continue;",
    replace: "if (REQUEST_OWNED.has(name) || named.has(name)) continue;",
    tests: [T.headers],
  },
  {
    name: "connection-named-response-headers-forwarded",
    kind: "header filtering",
    file: HEADERS,
    find: "if (HOP_BY_HOP.has(name) || named.has(name)) continue;",
    replace: `if (HOP_BY_HOP.has(name) || (named.has(name) && name === "")) continue;`,
    tests: [T.headers],
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
    file: MANAGER,
    find: `=== "credentials_rejected"\n        ? this.#rejectedMs`,
    replace: `=== "credentials_rejected"\n        ? this.#transientMs + 0 * this.#rejectedMs`,
    tests: [T.manager, T.fleet],
  },
  {
    name: "shared-failure-not-written",
    kind: "negative cache",
    file: MANAGER,
    find:
      `await this.#storeCall(entry, "writeFailure", (store) => store.writeFailure(id, failure));`,
    replace: "",
    tests: [T.fleet],
  },
  {
    name: "retry-after-ignored",
    kind: "Retry-After",
    file: MANAGER,
    find: "wait = Math.max(wait, error.retryAfterSeconds * 1000);",
    replace: "wait = Math.max(wait, 0);",
    tests: [T.manager],
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
    file: MANAGER,
    find: `const retryable = error.code === "token_endpoint_unavailable" ||`,
    replace: `const retryable = error.code === "config_invalid" ||`,
    tests: [T.manager],
  },
  {
    name: "credentials-rejected-retried",
    kind: "retries",
    file: MANAGER,
    find: `error.code === "rate_limited";\n        const cap`,
    replace:
      `error.code === "rate_limited" || error.code === "credentials_rejected";\n        const cap`,
    tests: [T.manager],
  },
  {
    name: "retry-deadline-ignored",
    kind: "timeouts",
    file: MANAGER,
    find: "const willRetry = retryable && Date.now() + wait < deadline;",
    replace: "const willRetry = retryable;",
    tests: [T.tokenTimeout],
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
    find: "const timeout = timeouts.signal(timeoutMs ?? defaultTimeoutMs);",
    // Still through the shared timeouts (noUnusedLocals), but about 23 days long.
    replace:
      "const timeout = timeouts.signal(2_000_000_000 + 0 * (timeoutMs ?? defaultTimeoutMs));",
    tests: [T.upstreamTimeout],
  },
  {
    name: "store-call-unbounded",
    kind: "manager store timeout",
    file: MANAGER,
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
    find: "error !== undefined && OAUTH_ERRORS.has(error) ?",
    replace: "error !== undefined && OAUTH_ERRORS.size > 0 ?",
    tests: [T.manager],
  },
  {
    name: "access-token-enumerable",
    kind: "secret echo",
    file: MANAGER,
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
    find: "maxSize: config.maxBodyBytes,",
    replace: "maxSize: config.maxBodyBytes * 1024,",
    tests: [T.gateway],
  },
];
