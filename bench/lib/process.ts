/**
 * Child processes for the benchmarks: servers that announce themselves on their output, and
 * a clean stop (SIGTERM, then SIGKILL) of exactly the processes started here.
 *
 * @module
 */

/** The project root, with a trailing slash. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** Permissions of every benchmark script and server (the same set as `deno task test`). */
export const BENCH_PERMISSIONS: readonly string[] = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-run",
  "--allow-env",
  "--allow-read",
  "--allow-write=/tmp",
];

/** A running child process that announced it is ready. */
export interface Server {
  /** The first capture group of the readiness pattern (e.g. the URL). */
  readonly ready: string;
  /** Process id. */
  readonly pid: number;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, SIGKILL after a grace period, then waits for the exit. Idempotent. */
  stop(): Promise<void>;
  /** Same as `stop`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  /** The executable; default this Deno. */
  command?: string;
  /** Arguments. */
  args: string[];
  /** Extra environment (merged into this process's environment). */
  env?: Record<string, string>;
  /** Printed once the server listens; group 1 is returned as `ready`. */
  readyPattern: RegExp;
  /** How long to wait for the pattern; default 30 s. */
  timeoutMs?: number;
  /** Working directory; default the project root. */
  cwd?: string;
}

async function collect(stream: ReadableStream<Uint8Array>, sink: (text: string) => void) {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
  } catch {
    // The process went away.
  }
}

/**
 * Starts a process and resolves once its output matches `readyPattern`.
 *
 * @param options Command, arguments, environment and readiness pattern.
 * @returns The running server.
 * @throws {Error} When it exits first or is not ready in time (it is stopped then).
 */
export async function startServer(options: StartServerOptions): Promise<Server> {
  const child = new Deno.Command(options.command ?? Deno.execPath(), {
    args: options.args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let resolveReady: (value: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (resolveReady = resolve));
  const sink = (chunk: string) => {
    text += chunk;
    if (text.length > 200_000) text = text.slice(-100_000);
    const match = options.readyPattern.exec(text);
    if (match) resolveReady(match[1] ?? match[0]);
  };
  const readers = Promise.all([collect(child.stdout, sink), collect(child.stderr, sink)]);
  const exited = child.status;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
      await readers;
    })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const value = await Promise.race([
      ready,
      exited.then((status) => {
        throw new Error(`${options.args.join(" ")} exited with ${status.code}:\n${text}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${options.args.join(" ")} not ready:\n${text}`)),
          options.timeoutMs ?? 30_000,
        );
      }),
    ]);
    return {
      ready: value,
      pid: child.pid,
      output: () => text,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a command to completion and returns its stdout; throws with its output on failure.
 *
 * @param command The executable.
 * @param args Arguments.
 * @param options Working directory and environment.
 * @returns stdout as text.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${output.code}):\n${decoder.decode(output.stderr)}`,
    );
  }
  return decoder.decode(output.stdout);
}
