/**
 * The suite's assertions, in one place: `node:assert/strict` (built into Deno; `@std/assert`
 * lives on JSR, which the build machines cannot reach). Unit tests beside the code in `src/`
 * import it from here, so `src/` itself never names a `node:` module — the package runs on
 * Web APIs alone — and switching the assertion library is one line.
 *
 * @module
 */
export { default } from "node:assert/strict";
