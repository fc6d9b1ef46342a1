/**
 * Where the Worker bundle's bytes go: builds it like `deno task build:worker` with an
 * external source map, then attributes every minified byte to the source it was generated
 * from (the map's segments), summed per dependency (npm package, or `src/`) and per file.
 * Gzip is not attributable per byte; the raw split is what a smaller dependency saves.
 *
 * Run: `deno run --allow-run --allow-read --allow-write=/tmp bench/bundle_breakdown.ts`
 *
 * @module
 */
import { ROOT, runCommand } from "./lib/process.ts";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes one line of source-map VLQ segments into `[column, sourceIndex]` pairs. */
function segments(line: string, state: { source: number }): [number, number][] {
  const out: [number, number][] = [];
  let column = 0;
  for (const segment of line.split(",")) {
    if (segment === "") continue;
    const values: number[] = [];
    let value = 0;
    let shift = 0;
    for (const char of segment) {
      const digit = B64.indexOf(char);
      value += (digit & 31) << shift;
      if (digit & 32) {
        shift += 5;
      } else {
        values.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
    }
    column += values[0];
    if (values.length > 1) state.source += values[1];
    out.push([column, values.length > 1 ? state.source : -1]);
  }
  return out;
}

/** The dependency a source belongs to: `hono`, `@upstash/redis`, `src/…` top folder. */
function dependency(source: string): string {
  const npm = source.match(/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//);
  if (npm) return npm[1];
  const local = source.match(/\/(src|dev)\/([^/]+)/);
  return local ? `${local[1]}/${local[2]}` : source;
}

if (import.meta.main) {
  const out = await Deno.makeTempDir({ prefix: "aqc-bundle-" });
  try {
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
      tasks: Record<string, string>;
    };
    const args = config.tasks["build:worker"].split(/\s+/).slice(1)
      .map((arg) => arg === "dist/worker.js" ? `${out}/worker.js` : arg);
    await runCommand(Deno.execPath(), [...args, "--sourcemap", "external"]);
    const code = await Deno.readTextFile(`${out}/worker.js`);
    const map = JSON.parse(await Deno.readTextFile(`${out}/worker.js.map`)) as {
      sources: string[];
      mappings: string;
    };
    const lines = code.split("\n");
    const perSource = new Map<number, number>();
    const state = { source: 0 };
    map.mappings.split(";").forEach((mapping, row) => {
      const text = lines[row] ?? "";
      const segs = segments(mapping, state);
      segs.forEach(([column, source], i) => {
        const end = i + 1 < segs.length ? segs[i + 1][0] : text.length;
        perSource.set(source, (perSource.get(source) ?? 0) + Math.max(0, end - column));
      });
    });
    const perDependency = new Map<string, number>();
    const perFile: [string, number][] = [];
    for (const [index, bytes] of perSource) {
      const name = index < 0 ? "(unmapped)" : map.sources[index];
      perFile.push([name.replace(/^.*registry\.npmjs\.org\//, "npm:").replace(ROOT, ""), bytes]);
      const dep = index < 0 ? "(unmapped)" : dependency(name);
      perDependency.set(dep, (perDependency.get(dep) ?? 0) + bytes);
    }
    const total = code.length;
    const gzip = (await new Response(
      new Blob([code]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer()).byteLength;
    console.log(`bundle: ${total} bytes minified, ${gzip} gzip`);
    console.log("\nper dependency (minified bytes):");
    for (const [dep, bytes] of [...perDependency].sort((a, b) => b[1] - a[1])) {
      console.log(
        `${String(bytes).padStart(8)}  ${(100 * bytes / total).toFixed(1).padStart(5)}%  ${dep}`,
      );
    }
    console.log("\nlargest files:");
    for (const [file, bytes] of perFile.sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      console.log(`${String(bytes).padStart(8)}  ${file}`);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}
