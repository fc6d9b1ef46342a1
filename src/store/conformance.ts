/**
 * PLACEHOLDER of the "entries" branch, so the `./testing` entry compiles; the store helper's
 * `src/store/conformance.ts` (the `TokenStore` conformance suite) replaces this file at merge
 * (keep theirs).
 *
 * @module
 */
import type { TokenStore } from "./store.ts";

/** PLACEHOLDER: the store helper's conformance suite replaces it. */
export type TokenStoreFactory = () => TokenStore | Promise<TokenStore>;
