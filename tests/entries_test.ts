/**
 * The published entries (`deno.json` `exports`): what each one exports, and that the root
 * (the token layer) loads no npm package, so it runs on any runtime with `fetch` and WebCrypto.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as root from "../src/mod.ts";
import * as gateway from "../src/gateway/mod.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The module specifiers of an entry's graph, as `deno info --json` lists them. */
async function moduleGraph(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string }[];
  };
  return info.modules.map((module) => module.specifier);
}

Deno.test("deno info: the root entry's module graph holds no npm package", async () => {
  const modules = await moduleGraph("src/mod.ts");
  assert.ok(modules.length > 5, modules.join("\n"));
  assert.deepEqual(modules.filter((specifier) => !specifier.startsWith("file:")), []);
  assert.ok(modules.every((specifier) => specifier.includes("/src/")), modules.join("\n"));
  // The same check sees npm packages where there are some: ./gateway has Hono.
  const gatewayModules = await moduleGraph("src/gateway/mod.ts");
  assert.ok(gatewayModules.some((specifier) => specifier.startsWith("npm:")));
});

Deno.test("deno info: @upstash/redis is only in the ./upstash graph, not in ./gateway nor ./worker", async () => {
  const upstash = (specifier: string) => specifier.includes("@upstash/redis");
  assert.ok(!(await moduleGraph("src/gateway/mod.ts")).some(upstash), "./gateway");
  assert.ok(!(await moduleGraph("src/worker.ts")).some(upstash), "./worker");
  assert.ok(!(await moduleGraph("src/main.ts")).some(upstash), "main.ts");
  assert.ok((await moduleGraph("src/store/upstash_client.ts")).some(upstash), "./upstash");
});

Deno.test("deno info: OpenTelemetry is only in the ./otel graph and main.ts, not in ./worker", async () => {
  const otel = (specifier: string) => specifier.includes("@opentelemetry");
  assert.ok(!(await moduleGraph("src/mod.ts")).some(otel), "root");
  assert.ok(!(await moduleGraph("src/gateway/mod.ts")).some(otel), "./gateway");
  // Telemetry is opt-in on Workers (createAqcWorker({ telemetry })): the deployed Worker
  // carries none of it, nor src/otel.
  const worker = await moduleGraph("src/worker.ts");
  assert.ok(worker.some((specifier) => specifier.endsWith("/src/gateway/bootstrap.ts")));
  assert.deepEqual(worker.filter((s) => otel(s) || s.includes("/src/otel/")), [], "./worker");
  assert.ok((await moduleGraph("src/otel/mod.ts")).some(otel), "./otel");
  assert.ok((await moduleGraph("src/main.ts")).some(otel), "main.ts");
});

Deno.test("deno.json exports the entries", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}deno.json`));
  assert.deepEqual(config.exports, {
    ".": "./src/mod.ts",
    "./gateway": "./src/gateway/mod.ts",
    "./upstash": "./src/store/upstash_client.ts",
    "./testing": "./src/store/conformance.ts",
    "./worker": "./src/worker.ts",
    "./otel": "./src/otel/mod.ts",
  });
});

Deno.test("the root exports the token layer only, ./gateway the gateway", () => {
  assert.deepEqual(Object.keys(root).sort(), [
    "AqcError",
    "MemoryTokenStore",
    "TokenManager",
    "UpstashTokenStore",
    "createAqcFetch",
    "isAqcError",
    "normalizeOfficeId",
  ]);
  assert.deepEqual(Object.keys(gateway).sort(), [
    "CONFIG_VARIABLES",
    "ConfigError",
    "DEFAULTS",
    "createGateway",
    "createTokenManager",
    "generateGatewayKey",
    "generateTokenKey",
    "loadConfig",
    "problem",
    "problemFromError",
  ]);
});

Deno.test("src/ names no node: built-in, not even in a doc example: the package runs on Web APIs alone", async () => {
  const offenders: string[] = [];
  const walk = async (dir: URL): Promise<void> => {
    for await (const item of Deno.readDir(dir)) {
      const url = new URL(item.name + (item.isDirectory ? "/" : ""), dir);
      if (item.isDirectory) await walk(url);
      else if (item.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        // An import or export from a node: specifier, static or dynamic.
        for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["']node:[^"']+["']/g)) {
          offenders.push(`${url.pathname.split("/src/")[1]}: ${match[0]}`);
        }
      }
    }
  };
  await walk(new URL("../src/", import.meta.url));
  assert.deepEqual(offenders, []);
});
