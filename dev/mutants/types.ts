/**
 * The shape of a mutation: one or more textual edits of the sources, and the tests that
 * must catch them.
 *
 * @module
 */

/** One textual edit of one file. */
export interface Edit {
  /** Path from the repository root, e.g. `src/token/manager.ts`. */
  file: string;
  /**
   * Exact text, or a regular expression, that must match exactly once in `file`. Zero
   * matches (the code moved) or several (ambiguous) make the mutation "not applicable".
   */
  find: string | RegExp;
  /** The replacement; with a regular expression `$1`… refer to its groups. */
  replace: string;
}

/** A named mutation of a core invariant. */
export interface Mutation extends Edit {
  /** Unique, short, kebab-case: what is broken, e.g. `lease-not-released`. */
  name: string;
  /** The invariant family (issue #17 lists them), for the table. */
  kind: string;
  /** Test files (from the repository root) that must fail once the mutation is applied. */
  tests: string[];
  /** Runs only the tests whose name matches (`deno test --filter`). */
  filter?: string;
  /** Further edits applied together with the first (e.g. both sides of a protocol). */
  also?: Edit[];
}

/** What happened to one mutation. */
export type Outcome =
  | "caught"
  | "survived"
  | "not applicable"
  | "invalid"
  | "sanity failed";
