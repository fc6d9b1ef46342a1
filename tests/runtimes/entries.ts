/**
 * The package entries the cross-runtime suite bundles for Node, Bun and the Edge Runtime, as
 * project-relative paths. One list, so that a change of the entry layout is made here only.
 *
 * @module
 */

/** The `.` (token layer) and `./gateway` entries, keyed by the bundle file name they become. */
export const ENTRIES = {
  /** `.`: TokenManager, createAqcFetch, stores, errors. */
  mod: "src/mod.ts",
  /** `./gateway`: createGateway, loadConfig and the rest of the gateway. */
  gateway: "src/gateway/mod.ts",
} as const;
