/**
 * The status page as HTML: one self-contained document, an inline SVG chart and a table, no
 * script and no external asset, so `default-src 'none'` holds.
 *
 * @module
 */
import type { StatusSnapshot } from "./snapshot.ts";

/** The Content-Security-Policy the page is served with: inline styles and nothing else. */
export const STATUS_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

function duration(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Requests per minute of all offices: stacked bars of ok, limited (429) and errors (5xx). */
function chart(snapshot: StatusSnapshot): string {
  const width = 640;
  const height = 180;
  const pad = { left: 40, right: 8, top: 12, bottom: 24 };
  const n = snapshot.minutes;
  const sums = Array.from({ length: n }, (_, i) => {
    const sum = { at: 0, requests: 0, errors: 0, limited: 0 };
    for (const office of snapshot.offices) {
      const minute = office.minutes[i];
      if (minute === undefined) continue;
      sum.at = minute.at;
      sum.requests += minute.requests;
      sum.errors += minute.errors;
      sum.limited += minute.limited;
    }
    return sum;
  });
  const max = Math.max(1, ...sums.map((s) => s.requests));
  const plotH = height - pad.top - pad.bottom;
  const slot = (width - pad.left - pad.right) / n;
  const bars = sums.map((sum, i) => {
    const x = pad.left + i * slot + 2;
    const w = Math.max(1, slot - 4);
    const scale = (v: number): number => (v / max) * plotH;
    const ok = sum.requests - sum.errors - sum.limited;
    let y = pad.top + plotH;
    const parts: string[] = [];
    for (
      const [value, cls] of [[ok, "ok"], [sum.limited, "limited"], [sum.errors, "err"]] as const
    ) {
      const h = scale(Math.max(0, value));
      if (h <= 0) continue;
      y -= h;
      parts.push(
        `<rect class="${cls}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${
          w.toFixed(1)
        }" height="${h.toFixed(1)}"/>`,
      );
    }
    const label = `${
      n - 1 - i
    } min ago: ${sum.requests} requests, ${sum.errors} errors, ${sum.limited} limited`;
    return `<g data-minute="${i}" data-requests="${sum.requests}" data-errors="${sum.errors}"><title>${
      esc(label)
    }</title>${parts.join("")}</g>`;
  });
  const axisY = pad.top + plotH;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Requests per minute" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<line x1="${pad.left}" y1="${axisY}" x2="${width - pad.right}" y2="${axisY}" class="axis"/>
<text x="${pad.left - 6}" y="${pad.top + 4}" text-anchor="end">${max}</text>
<text x="${pad.left - 6}" y="${axisY}" text-anchor="end">0</text>
<text x="${pad.left}" y="${height - 6}">${n - 1} min ago</text>
<text x="${width - pad.right}" y="${height - 6}" text-anchor="end">now</text>
${bars.join("\n")}
</svg>`;
}

/**
 * Renders the page.
 *
 * @param snapshot The data (the same the JSON answer holds).
 * @returns The HTML document.
 */
export function statusPage(snapshot: StatusSnapshot): string {
  const rows = snapshot.offices.map((office) => {
    const cell = (field: string, value: string | number, text = String(value)): string =>
      `<td data-office="${esc(office.officeId)}" data-field="${field}" data-value="${esc(value)}">${
        esc(text)
      }</td>`;
    const t = office.token;
    return `<tr>${cell("officeId", office.officeId)}${cell("source", t?.source ?? "none")}${
      cell("ageSeconds", t?.ageSeconds ?? "", t ? duration(t.ageSeconds) : "–")
    }${
      cell("expiresInSeconds", t?.expiresInSeconds ?? "", t ? duration(t.expiresInSeconds) : "–")
    }${
      cell(
        "nextRefreshInSeconds",
        t?.nextRefreshInSeconds ?? "",
        t ? (office.refreshing ? "refreshing" : duration(t.nextRefreshInSeconds)) : "–",
      )
    }${
      cell(
        "failure",
        office.failure?.code ?? "",
        office.failure ? `${office.failure.code} (${office.failure.retryInSeconds} s)` : "–",
      )
    }${
      cell(
        "upstreamHoldSeconds",
        office.upstreamHoldSeconds,
        office.upstreamHoldSeconds > 0 ? `${office.upstreamHoldSeconds} s` : "–",
      )
    }${cell("requests", office.totals.requests)}${cell("errors", office.totals.errors)}${
      cell("limited", office.totals.limited)
    }</tr>`;
  });
  const generated = new Date(snapshot.generatedAt).toISOString();
  const redis = snapshot.sharedRedis === null
    ? "not used"
    : `${snapshot.sharedRedis.failures} failures${
      snapshot.sharedRedis.paused ? ", skipped now" : ""
    }`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>aqc-edge status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d232a;background:#fff}
h1{font-size:20px;margin:0 0 4px}p.meta{color:#5b6570;margin:0 0 16px}
table{border-collapse:collapse;margin-top:16px}th,td{padding:4px 10px;border-bottom:1px solid #e3e7eb;text-align:left}
th{font-weight:600;background:#f5f7f9}td[data-field=requests],td[data-field=errors],td[data-field=limited]{text-align:right}
svg text{font-size:11px;fill:#5b6570}.axis{stroke:#9aa5b1}.ok{fill:#2f855a}.limited{fill:#d69e2e}.err{fill:#c53030}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
</style></head><body>
<h1>aqc-edge status</h1>
<p class="meta">This isolate, ${esc(generated)} · store ${esc(snapshot.store)} · shared Redis ${
    esc(redis)
  } · last ${snapshot.minutes} minutes</p>
<div class="legend">Requests per minute<span class="ok" style="background:#2f855a"></span>ok<span style="background:#d69e2e"></span>429<span style="background:#c53030"></span>5xx</div>
${chart(snapshot)}
<table><thead><tr><th>office</th><th>token source</th><th>age</th><th>expires in</th><th>next refresh</th><th>failure</th><th>AQC 429 hold</th><th>requests</th><th>errors</th><th>429s</th></tr></thead>
<tbody>
${rows.length === 0 ? '<tr><td colspan="10">No office served yet</td></tr>' : rows.join("\n")}
</tbody></table>
</body></html>`;
}
