/**
 * workerd for the cold-start benchmark: the binary wrangler pins (from Deno's npm cache), a
 * generated capnp config, and a start that reports the moment workerd listens.
 *
 * workerd compiles and evaluates the worker's modules before it opens its sockets, so the
 * `listen` event of `--control-fd` splits a cold start into start-up (workerd itself, the
 * config, the script's compile and top-level evaluation) and the first request. Requests are
 * sent as soon as it listens: no polling delay, the same for every worker.
 *
 * @module
 */
import { ROOT, runCommand } from "./process.ts";

/** The workerd binary and its version. */
export interface Workerd {
  /** Path of the binary. */
  path: string;
  /** Its npm version, e.g. `1.20260426.1`. */
  version: string;
}

/**
 * The workerd binary wrangler uses, from Deno's npm cache (fetched there once if missing).
 *
 * @returns Its path and version.
 */
export async function findWorkerd(): Promise<Workerd> {
  const lock = await Deno.readTextFile(`${ROOT}deno.lock`);
  const version = /"workerd@([0-9.]+)"/.exec(lock)?.[1];
  if (version === undefined) {
    throw new Error("workerd is not in deno.lock (it comes with wrangler)");
  }
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "64";
  const os = Deno.build.os === "darwin" ? "darwin" : "linux";
  const info = JSON.parse(await runCommand(Deno.execPath(), ["info", "--json"])) as {
    npmCache: string;
  };
  const path =
    `${info.npmCache}/registry.npmjs.org/@cloudflare/workerd-${os}-${arch}/${version}/bin/workerd`;
  const exists = () => Deno.stat(path).then(() => true, () => false);
  if (!(await exists())) {
    const wrangler = /WRANGLER_SPECIFIER = "([^"]+)"/.exec(
      await Deno.readTextFile(`${ROOT}tests/helpers/workerd.ts`),
    )?.[1] ?? "npm:wrangler@4.86.0";
    console.error(`bench: fetching workerd (deno cache ${wrangler})`);
    await runCommand(Deno.execPath(), ["cache", wrangler]);
    if (!(await exists())) throw new Error(`workerd not found at ${path}`);
  }
  return { path, version };
}

/** The deployment settings of `wrangler.toml` that change how workerd runs the Worker. */
export interface Compatibility {
  /** `compatibility_date`. */
  date: string;
  /** `compatibility_flags`. */
  flags: string[];
}

/**
 * Reads `compatibility_date` and `compatibility_flags` from the root `wrangler.toml`.
 *
 * @returns Both, as deployed.
 */
export async function readCompatibility(): Promise<Compatibility> {
  const toml = await Deno.readTextFile(`${ROOT}wrangler.toml`);
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (date === undefined) throw new Error("No compatibility_date in wrangler.toml");
  const list = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  const flags = [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
  return { date, flags };
}

/**
 * A capnp config serving `worker.js` (beside the config) on `127.0.0.1:port`.
 *
 * @param port The HTTP port.
 * @param compatibility Date and flags.
 * @param bindings Text bindings.
 * @returns The config's text.
 */
export function capnpConfig(
  port: number,
  compatibility: Compatibility,
  bindings: Record<string, string>,
): string {
  const text = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(compatibility.date)},
  compatibilityFlags = [${compatibility.flags.map((flag) => JSON.stringify(flag)).join(", ")}],
  bindings = [${text}],
);
`;
}

/** A workerd that listens. */
export interface StartedWorkerd {
  /** `performance.now()` when it was spawned. */
  spawnedAt: number;
  /** ms from the spawn to its `listen` event. */
  listenMs: number;
  /**
   * CPU time workerd has used so far, all threads, in ms (Linux `schedstat`, in ns; none
   * elsewhere). Unlike wall time it hardly moves when other processes share the CPUs.
   */
  cpuMs(): number | undefined;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * The CPU time of every thread of `pid`, in ms, from `/proc/<pid>/task/<tid>/schedstat`; on
 * a kernel without scheduler statistics (all 0), from `/proc/<pid>/stat`'s user and system
 * time, in clock ticks of 10 ms. Read by `cat`: Deno lets a script read another process's
 * `/proc` entries only with `--allow-all`, which the bench does not ask for.
 */
function cpuMsOf(pid: number): number | undefined {
  try {
    const out = new Deno.Command("sh", {
      args: ["-c", `cat /proc/${pid}/task/*/schedstat; echo STAT; cat /proc/${pid}/stat`],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (!out.success) return undefined;
    const [sched, stat = ""] = new TextDecoder().decode(out.stdout).split("STAT\n");
    const ns = sched.trim().split("\n").reduce((sum, line) => sum + Number(line.split(" ")[0]), 0);
    if (ns > 0) return ns / 1e6;
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) && ticks > 0 ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Spawns `workerd serve config` and resolves once it listens.
 *
 * @param workerd The binary.
 * @param config Path of the capnp config.
 * @returns The running workerd.
 * @throws {Error} When it exits first or does not listen within 20 s (it is killed then).
 */
export async function startWorkerd(workerd: string, config: string): Promise<StartedWorkerd> {
  const spawnedAt = performance.now();
  const child = new Deno.Command(workerd, {
    // The control fd is stdout: the worker's console lines and the `listen` event share it.
    args: ["serve", config, "--control-fd=1"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let listening: () => void = () => {};
  const listened = new Promise<void>((resolve) => (listening = resolve));
  // Drained to the end, so that logging after the answer never blocks on a full pipe.
  const drain = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      output = (output + decoder.decode(chunk, { stream: true })).slice(-20_000);
      if (output.includes('"event":"listen"')) listening();
    }
  })();
  const stderr = new Response(child.stderr).text();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    listened.then(() => "listen" as const),
    child.status.then(() => "exit" as const),
    new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), 20_000))),
  ]);
  clearTimeout(timer);
  const listenMs = performance.now() - spawnedAt;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await drain;
    await stderr;
  };
  if (outcome !== "listen") {
    if (outcome === "timeout") child.kill("SIGKILL");
    await child.status;
    await drain;
    throw new Error(`workerd did not listen (${outcome}):\n${output}\n${await stderr}`);
  }
  return { spawnedAt, listenMs, cpuMs: () => cpuMsOf(child.pid), stop };
}
