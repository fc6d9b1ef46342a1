/**
 * The branded `isAqcError`: it must recognise errors of another copy of the package (where
 * `instanceof` cannot) and nothing that merely looks like one.
 */
import assert from "../tests/helpers/assert.ts";
import { AqcError, isAqcError } from "./errors.ts";
import { problemFromError } from "./gateway/problem_from_error.ts";

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

Deno.test("isAqcError recognises an AqcError of another copy of the package", async () => {
  // A second copy of errors.ts under another specifier: a separate module, a separate class.
  const dir = await Deno.makeTempDir({ prefix: "aqc-copy-" });
  try {
    await Deno.copyFile(new URL("./errors.ts", import.meta.url), `${dir}/errors.ts`);
    const copy = await import(`file://${dir}/errors.ts`) as typeof import("./errors.ts");
    assert.notEqual(copy.AqcError, AqcError);
    const foreign: unknown = new copy.AqcError("upstream_timeout", "AQC did not answer");
    assert.ok(!(foreign instanceof AqcError), "instanceof alone cannot see it");
    assert.ok(isAqcError(foreign));
    assert.ok(isAqcError(foreign, "upstream_timeout"));
    assert.ok(!isAqcError(foreign, "rate_limited"));
    assert.ok(copy.isAqcError(new AqcError("office_invalid", "Office id must be 9 characters")));
    // problemFromError maps it like its own.
    const answer = problemFromError(foreign);
    assert.equal(answer.status, 504);
    assert.equal((await answer.json()).code, "upstream_timeout");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isAqcError does not take look-alikes for AqcErrors", () => {
  for (
    const value of [
      null,
      undefined,
      "AqcError",
      42,
      new Error("plain"),
      { name: "AqcError", code: "rate_limited", message: "forged" },
      Object.assign(new Error("forged"), { code: "rate_limited" }),
      revoked(),
      Object.defineProperty({}, Symbol.for("aqc-edge.AqcError"), {
        get() {
          throw new Error("hostile getter");
        },
      }),
    ]
  ) {
    assert.ok(!isAqcError(value));
  }
});
