/**
 * The mutation tool's rule: a mutation applies only where its target matches exactly once;
 * gone or ambiguous is "not applicable", never "caught". And the list itself is well formed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { applyEdit, applyEdits, countMatches } from "../dev/mutants/apply.ts";
import { MUTATIONS } from "../dev/mutants/mutations.ts";
import { failedTests, runMutation } from "../dev/mutants/run.ts";

const SOURCE = `const a = 1;\nif (ok) return a;\nif (ok) return b;\n`;

Deno.test("mutants: an exact target found once is replaced, with no $-specials", () => {
  const result = applyEdit(SOURCE, { find: "const a = 1;", replace: "const a = $&2;" });
  assert.deepEqual(result, {
    ok: true,
    text: SOURCE.replace("const a = 1;", () => "const a = $&2;"),
  });
});

Deno.test("mutants: a target gone or found twice is not applicable", () => {
  const gone = applyEdit(SOURCE, { find: "const z = 1;", replace: "x" });
  assert.equal(gone.ok, false);
  assert.match(!gone.ok ? gone.reason : "", /not found/);
  const twice = applyEdit(SOURCE, { find: "if (ok) return", replace: "x" });
  assert.equal(twice.ok, false);
  assert.match(!twice.ok ? twice.reason : "", /found 2 times/);
  const regexTwice = applyEdit(SOURCE, { find: /return \w;/, replace: "x" });
  assert.equal(regexTwice.ok, false);
  assert.equal(applyEdit(SOURCE, { find: "", replace: "x" }).ok, false);
  assert.equal(applyEdit(SOURCE, { find: /(?:)/, replace: "x" }).ok, false);
  const noChange = applyEdit(SOURCE, { find: "const a = 1;", replace: "const a = 1;" });
  assert.equal(noChange.ok, false);
});

Deno.test("mutants: a regular expression target found once is replaced with its groups", () => {
  assert.equal(countMatches(SOURCE, /return (a);/), 1);
  const result = applyEdit(SOURCE, { find: /return (a);/, replace: "return -$1;" });
  assert.ok(result.ok);
  assert.match(result.text, /return -a;/);
});

Deno.test("mutants: several edits apply all or none", async () => {
  const files: Record<string, string> = { "a.ts": "one\ntwo\n", "b.ts": "three\n" };
  const read = (path: string) => Promise.resolve(files[path]);
  const both = await applyEdits([
    { file: "a.ts", find: "one", replace: "1" },
    { file: "a.ts", find: "two", replace: "2" },
    { file: "b.ts", find: "three", replace: "3" },
  ], read);
  assert.ok(both.ok);
  assert.deepEqual(Object.fromEntries(both.files), { "a.ts": "1\n2\n", "b.ts": "3\n" });
  const partial = await applyEdits([
    { file: "a.ts", find: "one", replace: "1" },
    { file: "b.ts", find: "four", replace: "4" },
  ], read);
  assert.equal(partial.ok, false);
  assert.equal((await applyEdits([{ file: "c.ts", find: "x", replace: "y" }], read)).ok, false);
});

Deno.test("mutants: a mutation whose target is gone is reported not applicable without running tests", async () => {
  const repo = await Deno.makeTempDir({ prefix: "aqc-mutants-test-" });
  try {
    await Deno.writeTextFile(`${repo}/x.ts`, "export const x = 1;\n");
    const result = await runMutation(repo, repo, {
      name: "gone",
      kind: "test",
      file: "x.ts",
      find: "export const y = 1;",
      replace: "export const y = 2;",
      tests: ["tests/none_test.ts"],
    }, 1_000);
    assert.equal(result.outcome, "not applicable");
    assert.match(result.detail, /not found/);
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("mutants: failed test names are read from deno test output", () => {
  const output = [
    "ok | 1 passed",
    "\x1b[1m FAILURES \x1b[0m",
    "",
    "first failing test => ./tests/a_test.ts:3:6",
    "second => ./tests/b_test.ts:9:1",
    "",
    "FAILED | 1 passed | 2 failed",
  ].join("\n");
  assert.deepEqual(failedTests(output), ["first failing test", "second"]);
  assert.deepEqual(failedTests("ok | 3 passed"), []);
});

Deno.test("mutants: the list has unique names, existing test files and every #17 kind", async () => {
  const names = new Set<string>();
  const root = new URL("../", import.meta.url);
  for (const m of MUTATIONS) {
    assert.ok(!names.has(m.name), `duplicate ${m.name}`);
    names.add(m.name);
    assert.match(m.name, /^[a-z0-9-]+$/);
    assert.ok(m.tests.length > 0, m.name);
    // Test files must exist (a missing one would fail the run, looking "caught"); a moved
    // source file only makes its mutation "not applicable", reported by the run itself.
    for (const path of m.tests) await Deno.stat(new URL(path, root));
  }
  const kinds = new Set(MUTATIONS.map((m) => m.kind));
  for (
    const kind of [
      "single flight",
      "refresh window",
      "skew",
      "401 replay",
      "compare-and-delete",
      "lease",
      "sealing AAD",
      "office normalisation",
      "key allowlists",
      "path spellings",
      "header filtering",
      "negative cache",
      "Retry-After",
      "timeouts",
      "secret echo",
      "constant IV",
      "AQC_OFFICES",
      "refused-token re-adoption",
      "manager store timeout",
      "expiry anchor",
      "lease release",
    ]
  ) assert.ok(kinds.has(kind), `no mutation of kind ${kind}`);
  assert.ok(MUTATIONS.length >= 26);
});
