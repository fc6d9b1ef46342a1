import assert from "node:assert/strict";
import { parseResults, RESULT_PREFIX, resultLine } from "./drivers/protocol.ts";
import { failures, formatTable, type RuntimeRun } from "./table.ts";

const runs: RuntimeRun[] = [
  {
    runtime: "deno",
    results: [{ name: "import", ok: true }, { name: "token", ok: false, detail: "got l2" }],
    output: "",
  },
  {
    runtime: "workerd",
    results: [{ name: "import", ok: true }, { name: "module_scope_token", ok: true }],
    output: "",
  },
];

Deno.test("formatTable: one row per check, one column per runtime, — where not run", () => {
  assert.equal(
    formatTable(runs),
    [
      "| check              | deno | workerd |",
      "| ------------------ | ---- | ------- |",
      "| import             | pass | pass    |",
      "| token              | FAIL | —       |",
      "| module_scope_token | —    | pass    |",
    ].join("\n"),
  );
});

Deno.test("failures: every failed check with its runtime and detail", () => {
  assert.deepEqual(failures(runs), ["deno token: got l2"]);
  assert.deepEqual(failures([{ runtime: "x", results: [], output: "" }]), []);
});

Deno.test("parseResults: finds the result line among other output, ignores junk items", () => {
  const line = resultLine([{ name: "import", ok: true }]);
  assert.deepEqual(parseResults(`warning: x\n${line}\ntrailing`), [{ name: "import", ok: true }]);
  assert.equal(parseResults("no line here"), undefined);
  assert.equal(parseResults(`${RESULT_PREFIX}{"not":"an array"}`), undefined);
  assert.deepEqual(parseResults(`${RESULT_PREFIX}[1,{"name":"a"},{"name":"b","ok":false}]`), [
    { name: "b", ok: false },
  ]);
});
