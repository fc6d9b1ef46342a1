/**
 * Test harness for the real Cloudflare Workers runtime (workerd): runs `wrangler dev` through
 * `deno run -A npm:wrangler@4.86.0 dev --local` on free loopback ports, waits until it is ready,
 * and stops the whole process tree (Deno shim → wrangler → workerd) so that Deno's test
 * sanitizers pass and nothing survives a test.
 *
 * - `configs[0]` is the primary worker, the only one served on `url`; the other configs run in
 *   the same workerd and are reachable through service bindings (`[[services]]`).
 * - A `[build] command` runs in `cwd` (wrangler's working directory, NOT the config's
 *   directory), so write build commands with paths relative to the project root, the default
 *   `cwd`.
 * - Scheduled handlers of the primary worker: `GET {url}/cdn-cgi/handler/scheduled?cron=…`
 *   (see {@link triggerScheduled}); `/__scheduled` needs `testScheduled` and works only when
 *   wrangler itself bundles the worker (not with `no_bundle = true`).
 * - Bindings, primary worker: `vars` via `--var` (overriding `[vars]`), `secrets` via a private
 *   temporary `--env-file` (so a `.dev.vars` / `.env` beside its config is never read).
 * - Bindings, other workers: wrangler 4.86 gives them neither `--var` nor `--env-file`, only
 *   their `[vars]` and a `.dev.vars` beside their config. So `vars` and `secrets` are also put
 *   into wrangler's environment, from which a worker whose config lists them in
 *   `[secrets] required = [...]` (experimental in wrangler 4.86) gets them as secrets.
 * - Secret values never appear in process arguments or in `output()`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The wrangler the harness runs; pinned so its npm packages are recorded in `deno.lock`. */
export const WRANGLER_SPECIFIER = "npm:wrangler@4.86.0";

/** The project root (the directory of `deno.json`), the default working directory. */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const MAX_OUTPUT_CHARS = 1_000_000;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Environment names a binding must not take over in wrangler's environment. */
const RESERVED_NAME =
  /^(PATH|HOME|PWD|SHELL|TERM|TMPDIR|TEMP|TMP|LANG|USER|(DENO|WRANGLER|CLOUDFLARE|MINIFLARE|NODE|NPM_CONFIG|LD|SSL)_.*)$/i;
// deno-lint-ignore no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;
const READY_LINE = /Ready on (https?:\/\/[^\s]+)/;

/** Options of {@link startWrangler}. */
export interface StartWranglerOptions {
  /** Paths of the `wrangler.toml` files, relative to `cwd` or absolute; the first is primary. */
  configs: string[];
  /**
   * Plain vars: `--var KEY:VALUE` for the primary worker (overriding its `[vars]`; visible in the
   * process arguments), and wrangler's environment for secondaries that list them in
   * `[secrets] required`.
   */
  vars?: Record<string, string>;
  /**
   * Secrets: a private temporary `--env-file` (mode 0600) for the primary worker, and wrangler's
   * environment for secondaries that list them in `[secrets] required`. Never printed; no `'`
   * or line break.
   */
  secrets?: Record<string, string>;
  /** Working directory of wrangler and of `[build] command`s; defaults to {@link PROJECT_ROOT}. */
  cwd?: string;
  /** Passes `--test-scheduled` (enables `/__scheduled` for workers that wrangler bundles). */
  testScheduled?: boolean;
  /** How long to wait for the "Ready on" line; 60 s by default (a cold npm cache included). */
  readyTimeoutMs?: number;
}

/** A running `wrangler dev` session. */
export interface WranglerSession {
  /** Base URL of the primary worker, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly url: string;
  /** Process id of the `deno run npm:wrangler` process at the root of the tree. */
  readonly pid: number;
  /** Stops wrangler and every process it started, then removes the temporary directory. */
  stop(): Promise<void>;
  /** Everything wrangler printed so far (stdout and stderr, ANSI codes and secrets removed). */
  output(): string;
  /** Same as {@link WranglerSession.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `wrangler dev --local` for `options.configs` on a free loopback port and resolves once
 * wrangler reports "Ready on …". Rejects, after stopping everything it started, with the captured
 * output when wrangler exits early or is not ready within `readyTimeoutMs`.
 */
export async function startWrangler(options: StartWranglerOptions): Promise<WranglerSession> {
  if (options.configs.length === 0) throw new Error("startWrangler: configs must not be empty");
  const vars = Object.entries(options.vars ?? {});
  const secrets = Object.entries(options.secrets ?? {});
  for (const [name] of [...vars, ...secrets]) {
    if (!VAR_NAME.test(name) || RESERVED_NAME.test(name)) {
      throw new Error(`startWrangler: invalid or reserved binding name ${name}`);
    }
  }
  const secretValues = secrets.map(([, value]) => value).filter((value) => value.length > 0);
  const tmp = await Deno.makeTempDir({ prefix: "aqc-wrangler-" });
  try {
    const envFile = `${tmp}/secrets.env`;
    await Deno.writeTextFile(envFile, formatEnvFile(secrets), { mode: 0o600 });
    const args = [
      "run",
      "-A",
      WRANGLER_SPECIFIER,
      "dev",
      ...options.configs.flatMap((config) => ["--config", config]),
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      "0",
      "--inspector-port",
      "0",
      "--show-interactive-dev-session=false",
      "--log-level",
      "info",
      "--persist-to",
      `${tmp}/state`,
      "--env-file",
      envFile,
      ...vars.flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ...(options.testScheduled === true ? ["--test-scheduled"] : []),
    ];
    const child = spawnWithParentDeathSignal(Deno.execPath(), args, {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: { ...wranglerEnv(tmp), ...Object.fromEntries([...vars, ...secrets]) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    return await waitUntilReady(child, tmp, secretValues, options);
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Triggers the `scheduled` handler of the primary worker of `session` with `cron` (and
 * optionally `scheduledTime` in ms) and returns when it has run; throws when it failed.
 */
export async function triggerScheduled(
  session: WranglerSession,
  cron: string,
  scheduledTime?: number,
): Promise<void> {
  const url = new URL("/cdn-cgi/handler/scheduled", session.url);
  url.searchParams.set("cron", cron);
  if (scheduledTime !== undefined) url.searchParams.set("time", String(scheduledTime));
  const res = await fetch(url);
  const body = await res.text();
  if (!res.ok) throw new Error(`scheduled handler failed: ${res.status} ${body}`);
}

/**
 * Spawns `program` under `setpriv --pdeathsig TERM` (util-linux) when available, so that the
 * `deno run npm:wrangler` shim gets SIGTERM, and forwards it to wrangler, should the test
 * process die without calling `stop()`; otherwise wrangler and workerd would be orphaned.
 */
function spawnWithParentDeathSignal(
  program: string,
  args: string[],
  options: Omit<Deno.CommandOptions, "args">,
): Deno.ChildProcess {
  try {
    return new Deno.Command("setpriv", {
      ...options,
      args: ["--pdeathsig", "TERM", "--", program, ...args],
    }).spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return new Deno.Command(program, { ...options, args }).spawn();
  }
}

function wranglerEnv(tmp: string): Record<string, string> {
  const env = Deno.env.toObject();
  // Never let the environment of the test run leak into the workers as secrets.
  delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
  delete env.CLOUDFLARE_ENV;
  return {
    ...env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_LOG_PATH: `${tmp}/logs`,
    WRANGLER_REGISTRY_PATH: `${tmp}/registry`,
    // No internet: skip the `Request.cf` download (and its 3 s time-out) from workers.cloudflare.com.
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    NO_COLOR: "1",
  };
}

/**
 * Renders `KEY='value'` lines for wrangler's `--env-file` loader (dotenv, then dotenv-expand).
 * Single quotes keep `#`, `"` and backslashes literal; every `$` is written `\$`, which
 * dotenv-expand leaves unexpanded and then turns back into `$`. A value with a single quote or a
 * line break is refused.
 */
function formatEnvFile(secrets: [string, string][]): string {
  return secrets.map(([name, value]) => {
    if (/['\r\n]/.test(value)) {
      throw new Error(`startWrangler: secret ${name} contains a single quote or line break`);
    }
    return `${name}='${value.replaceAll("$", "\\$")}'\n`;
  }).join("");
}

async function waitUntilReady(
  child: Deno.ChildProcess,
  tmp: string,
  secretValues: string[],
  options: StartWranglerOptions,
): Promise<WranglerSession> {
  let raw = "";
  let onOutput = (): void => {};
  const append = (text: string): void => {
    raw += text;
    if (raw.length > MAX_OUTPUT_CHARS) raw = raw.slice(raw.length - MAX_OUTPUT_CHARS);
    onOutput();
  };
  const readers = Promise.all([pump(child.stdout, append), pump(child.stderr, append)]);
  const output = (): string => redact(raw.replace(ANSI_ESCAPE, ""), secretValues);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await killTree(child);
      await readers;
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    })();
    return stopping;
  };

  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = new Promise<string>((resolve, reject) => {
    onOutput = () => {
      const match = READY_LINE.exec(raw.replace(ANSI_ESCAPE, ""));
      if (match !== null) resolve(match[1].replace(/\/$/, ""));
    };
    onOutput();
    child.status.then((status) => {
      reject(new Error(`wrangler exited with code ${status.code} before it was ready`));
    });
    timer = setTimeout(() => {
      reject(new Error(`wrangler was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const url = await ready;
    return { url, pid: child.pid, stop, output, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- wrangler output ---\n${output()}`);
  } finally {
    clearTimeout(timer);
    onOutput = () => {};
  }
}

async function pump(stream: ReadableStream<Uint8Array>, sink: (text: string) => void) {
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) sink(text);
  } catch (error) {
    sink(`\n[harness] reading wrangler output failed: ${String(error)}\n`);
  }
}

function redact(text: string, secretValues: string[]): string {
  let result = text;
  for (const value of secretValues) result = result.replaceAll(value, "[redacted]");
  return result;
}

/** One line of `ps`. */
interface ProcessInfo {
  pid: number;
  ppid: number;
  /** `ps` STAT; a leading `Z` is a zombie: exited, holding no port, file or memory. */
  state: string;
  /** Start time, to tell a process from a later one that reuses its pid. */
  started: string;
}

/**
 * Lists processes with `ps` (procps; /proc itself needs `--allow-all` in Deno, `ps` needs only
 * `--allow-run`).
 */
async function listProcesses(): Promise<ProcessInfo[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,stat=,lstart="],
    env: { LC_ALL: "C" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const result: ProcessInfo[] = [];
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    result.push({
      pid: Number(match[1]),
      ppid: Number(match[2]),
      state: match[3],
      started: match[4],
    });
  }
  return result;
}

function descendantsIn(all: ProcessInfo[], root: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const queue = [root];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const info of all) {
      if (info.ppid === parent) {
        found.push(info);
        queue.push(info.pid);
      }
    }
  }
  return found;
}

/** Of `tree`, the processes that are still running (same start time, not zombies). */
async function survivorsOf(tree: ProcessInfo[]): Promise<ProcessInfo[]> {
  if (tree.length === 0) return [];
  const now = await listProcesses();
  return tree.filter((old) =>
    now.some((info) =>
      info.pid === old.pid && info.started === old.started && !info.state.startsWith("Z")
    )
  );
}

/** Pids of every process below `root` (children, grandchildren, …). */
export async function processTree(root: number): Promise<number[]> {
  return descendantsIn(await listProcesses(), root).map((info) => info.pid);
}

/** True while `pid` exists and is not a zombie. */
export async function isRunning(pid: number): Promise<boolean> {
  const info = (await listProcesses()).find((candidate) => candidate.pid === pid);
  return info !== undefined && !info.state.startsWith("Z");
}

function tryKill(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * SIGTERM to the `deno run npm:wrangler` shim, which forwards it to wrangler, which stops
 * workerd and removes its temporary files; after a grace period, SIGKILL for whatever of the
 * tree (snapshotted before signalling) is still running.
 */
async function killTree(child: Deno.ChildProcess): Promise<void> {
  const tree = descendantsIn(await listProcesses(), child.pid);
  let exited = false;
  const status = child.status.then(() => {
    exited = true;
  });
  tryKill(child.pid, "SIGTERM");
  const deadline = Date.now() + STOP_GRACE_MS;
  while (!exited && Date.now() < deadline) await delay(20);
  if (!exited) tryKill(child.pid, "SIGKILL");
  await status;
  let survivors = await survivorsOf(tree);
  for (let tries = 0; survivors.length > 0 && tries < 10; tries++) {
    await delay(50);
    survivors = await survivorsOf(survivors);
  }
  for (const info of survivors) tryKill(info.pid, "SIGKILL");
}
