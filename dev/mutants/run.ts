/**
 * Running tests on a throwaway copy of the repository: copying it, applying a mutation,
 * running `deno test` with a time limit, and reading which tests failed.
 *
 * @module
 */
import { applyEdits } from "./apply.ts";
import type { Edit, Mutation, Outcome } from "./types.ts";

/** Never copied: history, dependencies and build output. */
const SKIPPED = new Set([".git", "node_modules", ".wrangler", "dist"]);

/** The permissions of `deno task test`. */
export const TEST_PERMISSIONS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-run",
  "--allow-env",
  "--allow-read",
  "--allow-write=/tmp",
];

/**
 * Copies the repository at `from` into `to` (created), without `.git` and build output.
 *
 * @param from The repository root.
 * @param to The new directory.
 */
export async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (SKIPPED.has(entry.name)) continue;
    const source = `${from}/${entry.name}`;
    const target = `${to}/${entry.name}`;
    if (entry.isDirectory) await copyTree(source, target);
    else if (entry.isFile) await Deno.copyFile(source, target);
    else if (entry.isSymlink) await Deno.symlink(await Deno.readLink(source), target);
  }
}

/** The outcome of one `deno test` run. */
export interface TestRun {
  /** Whether every selected test passed. */
  passed: boolean;
  /** Whether it was killed at the time limit (a hang). */
  timedOut: boolean;
  /** Whether it failed type-checking (the mutation is not valid code). */
  typeError: boolean;
  /** Names of the failed tests, as `deno test` lists them. */
  failed: string[];
  /** The end of the output, for a report. */
  tail: string;
  /** Wall time in ms. */
  durationMs: number;
}

// deno-lint-ignore no-control-regex -- colour codes are exactly what is stripped
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Reads the names of the failed tests from `deno test` output (its FAILURES section).
 *
 * @param output What `deno test` printed.
 * @returns The names, in order.
 */
export function failedTests(output: string): string[] {
  const text = output.replace(ANSI, "");
  const at = text.lastIndexOf(" FAILURES ");
  if (at === -1) return [];
  const names: string[] = [];
  for (const line of text.slice(at).split("\n").slice(1)) {
    if (line.trim() === "") {
      if (names.length > 0) break;
      continue;
    }
    const arrow = line.lastIndexOf(" => ");
    names.push((arrow === -1 ? line : line.slice(0, arrow)).trim());
  }
  return names;
}

/**
 * Runs `deno test` on `tests` in `root`, in its own process group so that a time-out can
 * stop it with everything it started (gateways, redis-server).
 *
 * @param root The repository copy.
 * @param tests Test files, relative to `root`.
 * @param options `filter` (`--filter`) and the time limit in ms.
 * @returns What happened.
 */
export async function runTests(
  root: string,
  tests: readonly string[],
  options: { filter?: string; timeoutMs: number },
): Promise<TestRun> {
  const started = performance.now();
  const args = [
    "--wait",
    Deno.execPath(),
    "test",
    ...TEST_PERMISSIONS,
    ...(options.filter === undefined ? [] : ["--filter", options.filter]),
    ...tests,
  ];
  // setsid: the child leads a new process group (its pid is the group id).
  const child = new Deno.Command("setsid", {
    args,
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
  running.add(child.pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, options.timeoutMs);
  const [stdout, stderr, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.status,
  ]);
  clearTimeout(timer);
  running.delete(child.pid);
  // Whatever the tests left behind (they should leave nothing) goes with the group.
  killGroup(child.pid);
  const output = `${stdout}\n${stderr}`.replace(ANSI, "");
  return {
    passed: status.success && !timedOut,
    timedOut,
    typeError: /Type checking failed|error: (TS\d+|Module not found)/.test(output),
    failed: failedTests(output),
    tail: output.trim().split("\n").slice(-30).join("\n"),
    durationMs: performance.now() - started,
  };
}

/** Process groups of the test runs under way (their leaders' pids). */
const running = new Set<number>();

/** Stops every test run under way with what it started (on Ctrl-C). */
export function stopAllRuns(): void {
  for (const pid of running) killGroup(pid);
  running.clear();
}

function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // The group is gone already.
  }
}

/** The result of one mutation. */
export interface MutationResult {
  /** The mutation. */
  mutation: Mutation;
  /** What happened. */
  outcome: Outcome;
  /** The failed tests that caught it, "timed out", or why it did not apply. */
  detail: string;
  /** Wall time in ms. */
  durationMs: number;
}

/** The edits of a mutation, the first one included. */
export function editsOf(mutation: Mutation): Edit[] {
  return [
    { file: mutation.file, find: mutation.find, replace: mutation.replace },
    ...(
      mutation.also ?? []
    ),
  ];
}

/**
 * Copies `repo` to a fresh directory under `workDir`, applies `mutation` there alone, runs
 * its tests and classifies the result. The copy is removed afterwards.
 *
 * @param repo The repository root.
 * @param workDir A scratch directory (under /tmp).
 * @param mutation The mutation.
 * @param timeoutMs Time limit of the test run.
 * @returns The result.
 */
export async function runMutation(
  repo: string,
  workDir: string,
  mutation: Mutation,
  timeoutMs: number,
): Promise<MutationResult> {
  const started = performance.now();
  const done = (outcome: Outcome, detail: string): MutationResult => ({
    mutation,
    outcome,
    detail,
    durationMs: performance.now() - started,
  });
  const applied = await applyEdits(editsOf(mutation), (path) => readText(`${repo}/${path}`));
  if (!applied.ok) return done("not applicable", applied.reason);
  const copy = await Deno.makeTempDir({ dir: workDir, prefix: `${mutation.name}-` });
  try {
    await copyTree(repo, copy);
    for (const [path, text] of applied.files) await Deno.writeTextFile(`${copy}/${path}`, text);
    const run = await runTests(copy, mutation.tests, {
      ...(mutation.filter === undefined ? {} : { filter: mutation.filter }),
      timeoutMs,
    });
    if (run.passed) return done("survived", "every listed test passed");
    if (run.typeError) {
      const first = run.tail.split("\n").find((line) => /TS\d+|not found/.test(line)) ?? "";
      return done("invalid", `the mutated code does not type-check: ${first.trim()}`);
    }
    if (run.timedOut) return done("caught", `timed out after ${timeoutMs} ms`);
    if (run.failed.length === 0) {
      return done("caught", `deno test failed: ${run.tail.split("\n").at(-1) ?? ""}`);
    }
    // The first two names say enough; the table stays readable.
    const more = run.failed.length > 2 ? ` (+${run.failed.length - 2} more)` : "";
    return done("caught", run.failed.slice(0, 2).join("; ") + more);
  } finally {
    await Deno.remove(copy, { recursive: true }).catch(() => undefined);
  }
}

/**
 * Reads a text file, or `undefined` when it does not exist.
 *
 * @param path The path.
 * @returns The text.
 */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
