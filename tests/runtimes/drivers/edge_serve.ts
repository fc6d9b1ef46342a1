/**
 * Serves an Edge Runtime script (argument: its path) with `edge-runtime`'s `runServer` on a
 * free loopback port and prints where it listens. Like Next.js, it gives the sandbox a
 * `process.env` holding only the AQC_* variables (Next.js inlines the ones a route reads);
 * nothing else of Node is there.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { EdgeRuntime, runServer } from "edge-runtime";

const script = process.argv[2];
if (script === undefined) throw new Error("Usage: edge_serve <script path>");
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name.startsWith("AQC_")),
);
const runtime = new EdgeRuntime({
  initialCode: readFileSync(script, "utf8"),
  extend: (context) => Object.assign(context, { process: { env } }),
});
const server = await runServer({ runtime, host: "127.0.0.1", port: 0 });
console.log(`Listening on ${server.url.replace(/\/$/, "")}`);
