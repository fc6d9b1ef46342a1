/**
 * Applying a mutation's edits to source text: pure, so the rule "a target that is gone or
 * ambiguous is not applicable, never caught" is unit-tested on its own.
 *
 * @module
 */
import type { Edit } from "./types.ts";

/** The result of applying one edit to a text. */
export type EditResult =
  | { ok: true; text: string }
  | { ok: false; reason: string };

/**
 * How many times `find` occurs in `text` (non-overlapping, like `replaceAll`).
 *
 * @param text The source text.
 * @param find Exact text or a regular expression.
 * @returns The number of matches.
 */
export function countMatches(text: string, find: string | RegExp): number {
  if (typeof find === "string") {
    if (find === "") return 0;
    return text.split(find).length - 1;
  }
  const flags = find.flags.includes("g") ? find.flags : find.flags + "g";
  let count = 0;
  for (const match of text.matchAll(new RegExp(find.source, flags))) {
    // An empty match is no target: it would "apply" anywhere.
    if (match[0] !== "") count++;
  }
  return count;
}

function describe(find: string | RegExp): string {
  const text = typeof find === "string" ? JSON.stringify(find) : String(find);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Applies one edit. It applies only when `find` matches exactly once and the replacement
 * changes the text; otherwise the reason says why not.
 *
 * @param text The file's text.
 * @param edit The edit.
 * @returns The new text, or why the edit does not apply.
 */
export function applyEdit(text: string, edit: Pick<Edit, "find" | "replace">): EditResult {
  const count = countMatches(text, edit.find);
  if (count === 0) return { ok: false, reason: `${describe(edit.find)} not found` };
  if (count > 1) {
    return { ok: false, reason: `${describe(edit.find)} found ${count} times (ambiguous)` };
  }
  const next = typeof edit.find === "string"
    // A function: no "$&"-style specials in a plain replacement.
    ? text.replace(edit.find, () => edit.replace)
    : text.replace(new RegExp(edit.find.source, edit.find.flags.replace("g", "")), edit.replace);
  if (next === text) {
    return { ok: false, reason: `${describe(edit.find)}: replacement changes nothing` };
  }
  return { ok: true, text: next };
}

/**
 * Applies several edits (possibly to several files) to in-memory file texts. All apply or
 * none does.
 *
 * @param edits The edits, in order.
 * @param read Reads a file (`undefined` when it does not exist).
 * @returns The changed files by path, or why the edits do not apply.
 */
export async function applyEdits(
  edits: readonly Edit[],
  read: (path: string) => Promise<string | undefined>,
): Promise<{ ok: true; files: Map<string, string> } | { ok: false; reason: string }> {
  const files = new Map<string, string>();
  for (const edit of edits) {
    const current = files.get(edit.file) ?? await read(edit.file);
    if (current === undefined) return { ok: false, reason: `${edit.file} does not exist` };
    const result = applyEdit(current, edit);
    if (!result.ok) return { ok: false, reason: `${edit.file}: ${result.reason}` };
    files.set(edit.file, result.text);
  }
  return { ok: true, files };
}
