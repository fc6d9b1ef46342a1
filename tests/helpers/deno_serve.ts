/**
 * Runs `deno serve src/main.ts` as a real process on a free loopback port.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** A running `deno serve` process. */
export interface ServedMain {
  /** Base URL, no trailing slash. */
  readonly url: string;
  /** The process id (for memory readings in `/proc`). */
  readonly pid: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /**
   * Stops the process and waits for it.
   *
   * @param signal `SIGTERM` by default; `SIGKILL` kills it mid-work, like a crashed isolate.
   */
  stop(signal?: Deno.Signal): Promise<void>;
  /** Same as stop, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a process that exited printed, and its code. */
export interface ExitedMain {
  /** Exit code. */
  code: number;
  /** stdout and stderr. */
  output: string;
}

/** Options of {@linkcode serveMain}. */
export interface ServeMainOptions {
  /** Server threads (`deno serve --parallel`, one isolate each); default 1. */
  parallel?: number;
  /** `--allow-env=<these>` instead of a bare `--allow-env` (the whole environment). */
  allowEnv?: readonly string[];
}

function command(env: Record<string, string>, options: ServeMainOptions = {}): Deno.Command {
  const parallel = options.parallel ?? 1;
  return new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      ...(parallel > 1 ? ["--parallel"] : []),
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--allow-net=127.0.0.1,localhost",
      options.allowEnv === undefined ? "--allow-env" : `--allow-env=${options.allowEnv.join(",")}`,
      "src/main.ts",
    ],
    cwd: ROOT,
    // Only what is given: nothing of the test runner's environment leaks in.
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      ...(parallel > 1 ? { DENO_JOBS: String(parallel) } : {}),
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  });
}

async function collect(stream: ReadableStream<Uint8Array>, sink: (text: string) => void) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
}

/**
 * Starts `deno serve src/main.ts` with exactly `env` and waits until it listens.
 *
 * @param env The process environment (AQC_* variables).
 * @param options Server threads.
 * @returns The running server.
 */
export async function serveMain(
  env: Record<string, string>,
  options: ServeMainOptions = {},
): Promise<ServedMain> {
  const child = command(env, options).spawn();
  let text = "";
  let resolveUrl: (url: string) => void;
  const listening = new Promise<string>((resolve) => (resolveUrl = resolve));
  const sink = (chunk: string) => {
    text += chunk;
    const match = text.match(/Listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (match) resolveUrl(match[1]);
  };
  const readers = Promise.all([collect(child.stdout, sink), collect(child.stderr, sink)]);
  const exited = child.status.then((s) => s.code);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("deno serve did not start in 30 s")), 30_000);
  });
  let url: string;
  try {
    url = await Promise.race([
      listening,
      exited.then((code) => {
        throw new Error(`deno serve exited with ${code}:\n${text}`);
      }),
      timeout,
    ]);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await exited;
    await readers;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  let stopped = false;
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
    await exited;
    await readers;
  };
  return {
    url,
    pid: child.pid,
    output: () => text,
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

/**
 * Runs `deno serve src/main.ts` with `env` expecting it to exit (a bad configuration).
 *
 * @param env The process environment.
 * @param options `--allow-env` narrowing.
 * @returns Its exit code and output.
 */
export async function runMainExpectingExit(
  env: Record<string, string>,
  options: ServeMainOptions = {},
): Promise<ExitedMain> {
  const child = command(env, options).spawn();
  let text = "";
  const readers = Promise.all([
    collect(child.stdout, (t) => (text += t)),
    collect(child.stderr, (t) => (text += t)),
  ]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 30_000))),
  ]);
  clearTimeout(timer);
  if (status === null) {
    child.kill("SIGKILL");
    await child.status;
    await readers;
    throw new Error(`deno serve kept running with a bad configuration:\n${text}`);
  }
  await readers;
  return { code: status.code, output: text };
}
