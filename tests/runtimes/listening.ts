/**
 * Starts a server process and waits for its `Listening on http://127.0.0.1:PORT` line; stops
 * it by pid. For the snippets, which are servers rather than scenario drivers.
 *
 * @module
 */
import { PROJECT_ROOT } from "../helpers/workerd.ts";

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;
const LISTENING = /Listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** A running server process. */
export interface ListeningProcess {
  /** Base URL, no trailing slash. */
  readonly url: string;
  /** What it printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; waits for the exit. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Spawns `program args` with exactly `env` (plus PATH and HOME) and waits until it listens. */
export async function startListening(
  program: string,
  args: string[],
  env: Record<string, string>,
): Promise<ListeningProcess> {
  const child = new Deno.Command(program, {
    args,
    cwd: PROJECT_ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      // A Deno child (the Deno driver, `deno serve`) must find the same module cache.
      ...passThrough("DENO_DIR"),
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let onText = (): void => {};
  const pump = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text = (text + chunk).slice(-100_000);
      onText();
    }
  };
  const readers = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, STOP_GRACE_MS);
      await status;
      clearTimeout(timer);
    }
    await readers;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      onText = () => {
        const match = LISTENING.exec(text);
        if (match !== null) resolve(match[1]);
      };
      status.then((s) => reject(new Error(`${program} exited with ${s.code}:\n${text}`)));
      timer = setTimeout(
        () => reject(new Error(`${program} did not listen:\n${text}`)),
        READY_TIMEOUT_MS,
      );
    });
    return { url, output: () => text, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
    onText = () => {};
  }
}

/** `{ [name]: value }` when the test run has `name` set, else nothing. */
function passThrough(name: string): Record<string, string> {
  const value = Deno.env.get(name);
  return value === undefined ? {} : { [name]: value };
}
