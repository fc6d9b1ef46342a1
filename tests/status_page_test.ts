/**
 * `GET /status` of `deno serve src/main.ts`, read as JSON and rendered by a real headless
 * chromium: the page renders under its CSP, its numbers match the JSON, a non-admin key gets 403,
 * and neither answer holds a token, the client secret or a gateway key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, serveSimulator } from "../dev/simulator/mod.ts";
import { generateGatewayKey } from "../src/gateway/mod.ts";
import type { StatusSnapshot } from "../src/gateway/status/snapshot.ts";
import { launchChromium } from "./helpers/chromium.ts";
import { serveMain } from "./helpers/deno_serve.ts";
import { SEARCH } from "./helpers/ops_gateway.ts";

const OFFICE = "NCE1A0955";
const OTHER = "DELAI08AA";
/** Where the test leaves the screenshot (README shows a copy: docs/status.png). */
const SCREENSHOT = "/tmp/aqc-edge-status.png";

Deno.test("the status page: JSON and HTML agree, chromium renders it, only admin keys read it", async () => {
  await using served = await serveSimulator();
  const admin = await generateGatewayKey("ops", ["*"]);
  const web = await generateGatewayKey("web", ["*"]);
  await using gateway = await serveMain({
    AQC_API_URL: served.url,
    AQC_CLIENT_ID: DEFAULT_CLIENT_ID,
    AQC_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    AQC_GATEWAY_KEYS: JSON.stringify([
      { ...admin.entry, admin: true },
      { ...web.entry, rateLimit: { requests: 6, windowSeconds: 60 } },
    ]),
  });
  const call = async (office: string): Promise<number> => {
    const response = await fetch(`${gateway.url}/aqc/${office}${SEARCH}`, {
      headers: { authorization: `Bearer ${web.key}` },
    });
    await response.body?.cancel();
    return response.status;
  };
  // NCE: 3 ok, 1 AQC 503; DEL: 2 ok; then the key's limit (6): one 429.
  for (let i = 0; i < 3; i++) assert.equal(await call(OFFICE), 200);
  served.simulator.configure({ apiFailure: { mode: "status", status: 503, remaining: 1 } });
  assert.equal(await call(OFFICE), 503);
  for (let i = 0; i < 2; i++) assert.equal(await call(OTHER), 200);
  assert.equal(await call(OTHER), 429);

  const statusOf = async (key: string | undefined, accept = "application/json") =>
    await fetch(`${gateway.url}/status`, {
      headers: { accept, ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
    });
  const forbidden = await statusOf(web.key);
  assert.equal(forbidden.status, 403);
  assert.equal((await forbidden.json()).code, "admin_required");
  const anonymous = await statusOf(undefined);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();

  const jsonResponse = await statusOf(admin.key);
  assert.equal(jsonResponse.status, 200);
  assert.equal(jsonResponse.headers.get("cache-control"), "no-store");
  const jsonText = await jsonResponse.text();
  const json: StatusSnapshot = JSON.parse(jsonText);
  // Expiry counts down: the page is read later than this JSON (chromium starts in between, for
  // seconds on a loaded machine), so the page's value is judged against the time that passed.
  const jsonAt = Date.now();
  const byOffice = new Map(json.offices.map((office) => [office.officeId, office]));
  const nce = byOffice.get(OFFICE)!;
  assert.deepEqual(nce.totals, { requests: 4, errors: 1, limited: 0 });
  assert.equal(nce.token?.source, "endpoint");
  assert.ok(nce.token!.expiresInSeconds > 1700 && nce.token!.expiresInSeconds <= 1799);
  assert.ok(nce.token!.nextRefreshInSeconds < nce.token!.expiresInSeconds);
  assert.equal(nce.failure, null);
  assert.deepEqual(byOffice.get(OTHER)!.totals, { requests: 3, errors: 0, limited: 1 });
  assert.equal(json.minutes, nce.minutes.length);

  const htmlResponse = await statusOf(admin.key, "text/html");
  const csp = htmlResponse.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /script-src/);
  const htmlText = await htmlResponse.text();
  assert.doesNotMatch(
    htmlText,
    /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i,
    "self-contained",
  );

  // Nothing secret in either answer: tokens issued, the client secret, both gateway keys.
  const secrets = [
    DEFAULT_CLIENT_SECRET,
    admin.key,
    web.key,
    ...served.simulator.issuedTokens.map((t) => t.accessToken),
  ];
  for (const secret of secrets) {
    assert.ok(!jsonText.includes(secret) && !htmlText.includes(secret), "a secret leaked");
  }

  await using chromium = await launchChromium();
  const page = await chromium.browser.newPage();
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await page.setViewport({ width: 1000, height: 520 });
  await page.setExtraHTTPHeaders({ authorization: `Bearer ${web.key}` });
  const denied = await page.goto(`${gateway.url}/status`);
  assert.equal(denied?.status(), 403, "a non-admin key gets 403 in the browser too");

  await page.setExtraHTTPHeaders({ authorization: `Bearer ${admin.key}` });
  const shown = await page.goto(`${gateway.url}/status`);
  const pageAt = Date.now();
  assert.equal(shown?.status(), 200);
  assert.equal(await page.title(), "aqc-edge status");
  const cells = await page.$$eval(
    "td[data-office]",
    (tds) =>
      tds.map((td) => [
        td.getAttribute("data-office"),
        td.getAttribute("data-field"),
        td.getAttribute("data-value"),
        td.textContent,
      ]),
  );
  const cell = (office: string, field: string): string | undefined =>
    cells.find(([o, f]) => o === office && f === field)?.[2] ?? undefined;
  for (const office of [nce, byOffice.get(OTHER)!]) {
    for (const field of ["requests", "errors", "limited"] as const) {
      assert.equal(
        cell(office.officeId, field),
        String(office.totals[field]),
        `${office.officeId} ${field}`,
      );
    }
    assert.equal(cell(office.officeId, "source"), office.token?.source ?? "none");
    const expires = Number(cell(office.officeId, "expiresInSeconds"));
    const passed = Math.ceil((pageAt - jsonAt) / 1000);
    const fromJson = office.token!.expiresInSeconds;
    assert.ok(
      expires <= fromJson + 1 && expires >= fromJson - passed - 1,
      `expiry matches the JSON (${expires} s on the page, ${fromJson} s in the JSON ${passed} s before)`,
    );
  }
  // The chart: one bar group per minute, the current minute holding this minute's traffic.
  const bars = await page.$$eval(
    "svg g[data-minute]",
    (groups) =>
      groups.map((
        g,
      ) => [Number(g.getAttribute("data-requests")), g.querySelectorAll("rect").length]),
  );
  assert.equal(bars.length, json.minutes);
  const total = bars.reduce((sum, [requests]) => sum + requests, 0);
  assert.equal(total, nce.totals.requests + byOffice.get(OTHER)!.totals.requests);
  const box = await page.$eval("svg", (svg) => {
    const rect = svg.getBoundingClientRect();
    return { width: rect.width, height: rect.height };
  });
  assert.ok(box.width > 100 && box.height > 50, "the chart is laid out");
  assert.deepEqual(violations, [], "no CSP violation");
  await page.screenshot({ path: SCREENSHOT });
  assert.ok((await Deno.stat(SCREENSHOT)).size > 1000);
});
