import assert from "node:assert/strict";
import fc from "fast-check";
import { AqcError } from "../src/mod.ts";
import { aqcUrl, resolveAqcUrl } from "../src/fetch/aqc_path.ts";

const ROOT = "https://test.travel.api.amadeus.com";
const refused = (e: unknown) => e instanceof AqcError && e.code === "path_invalid";

Deno.test("resolveAqcUrl joins paths and queries below the root", () => {
  assert.equal(
    resolveAqcUrl(ROOT, "/v2/shopping/flight-offers?originLocationCode=NCE&adults=1").href,
    `${ROOT}/v2/shopping/flight-offers?originLocationCode=NCE&adults=1`,
  );
  assert.equal(
    resolveAqcUrl(ROOT, "/v1/booking/flight-orders/eJzTd9f3%2FNjIJdQ%3D%3D").href,
    `${ROOT}/v1/booking/flight-orders/eJzTd9f3%2FNjIJdQ%3D%3D`,
  );
  assert.equal(resolveAqcUrl(`${ROOT}/base`, "/v1/x").href, `${ROOT}/base/v1/x`);
  assert.equal(resolveAqcUrl(ROOT, "/v1/x?next=../../y").search, "?next=../../y");
});

Deno.test("resolveAqcUrl refuses traversal and host escapes in every spelling", () => {
  for (
    const path of [
      "v1/x",
      "",
      "//evil.example/x",
      "/..",
      "/v1/../../x",
      "/v1/./x",
      "/v1/%2e%2e/x",
      "/v1/%2E%2E/x",
      "/v1/.%2e/x",
      "/v1/%252e%252e/x",
      "/v1/..%2f..%2fx",
      "/v1/%2e%2e%2f%2e%2e%2fx",
      "/v1\\..\\x",
      "/v1/%5c..%5cx",
      "/%2F%2Fevil.example/x",
      "/v1//x",
      "https://evil.example/x",
      "/v1/x#frag",
      "/v1/x y",
      "/v1/%00x",
      "/v1/%zz",
      "/\t/x",
      "/http:%2F%2Fevil.example/x",
      "/v1/%2F/x",
    ]
  ) {
    assert.throws(() => resolveAqcUrl(ROOT, path), refused, path);
  }
});

Deno.test("resolveAqcUrl: whatever the path, the URL stays on the root's origin and prefix", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (tail) => {
      let url: URL;
      try {
        url = resolveAqcUrl(`${ROOT}/api`, "/" + tail);
      } catch (error) {
        assert.ok(refused(error));
        return;
      }
      assert.equal(url.origin, ROOT);
      assert.ok(url.pathname.startsWith("/api/"));
      assert.ok(!url.pathname.split("/").includes(".."));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("resolveAqcUrl refuses dot segments carrying a ; parameter, in every spelling", () => {
  for (
    const path of [
      "/v1/..;/x",
      "/v1/..;jsessionid=1/x",
      "/v1/%2e%2e;/x",
      "/v1/%2E%2E%3B/x",
      "/v1/..%3b/x",
      "/v1/..%3B/x",
      "/v1/.;/x",
      "/v1/%2e;x/y",
      "/v1/%252e%252e%253b/x",
      "/..;",
    ]
  ) {
    assert.throws(() => resolveAqcUrl(`${ROOT}/api`, path), refused, path);
  }
  // A ; inside an ordinary segment is data, not a dot segment.
  assert.equal(resolveAqcUrl(ROOT, "/v1/a;b/c..d").pathname, "/v1/a;b/c..d");
  assert.equal(resolveAqcUrl(ROOT, "/v1/...;/x").pathname, "/v1/...;/x");
});

Deno.test("resolveAqcUrl refuses a percent-escape left after three decode rounds", () => {
  for (
    const path of [
      "/v1/%2525252e%2525252e/x",
      "/v1/%252525252e/x",
      "/v1/%2525252F/x",
      "/v1/a%25252541",
    ]
  ) {
    assert.throws(() => resolveAqcUrl(ROOT, path), refused, path);
  }
  // One to three levels of a harmless escape still pass; a literal "%" left over is data.
  assert.ok(resolveAqcUrl(ROOT, "/v1/a%2541"));
  assert.ok(resolveAqcUrl(ROOT, "/v1/a%252541"));
  assert.ok(resolveAqcUrl(ROOT, "/v1/discount/50%25"));
});

Deno.test("resolveAqcUrl: no accepted path holds a dot segment or an escape after decoding", () => {
  const pieces = fc.constantFrom(".", "..", ";", "%2e", "%2E", "%3b", "%25", "%2f", "a", "/", "2e");
  fc.assert(
    fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
      const path = "/v1/" + parts.join("");
      let url: URL;
      try {
        url = resolveAqcUrl(ROOT, path);
      } catch (error) {
        assert.ok(refused(error));
        return;
      }
      let text = url.pathname;
      for (let round = 0; round < 4; round++) {
        try {
          text = decodeURIComponent(text);
        } catch {
          break;
        }
        for (const segment of text.split("/")) {
          assert.ok(!/^\.\.?(?:;|$)/.test(segment), `${path} → ${text}`);
        }
      }
    }),
    { numRuns: 5000 },
  );
});

Deno.test("aqcUrl: the remembered verdicts never differ from resolveAqcUrl's, warm or cold", () => {
  // Pieces that make accepted and refused paths share prefixes and pathnames, with queries
  // and fragments, so a remembered pathname is tried with every tail.
  const pieces = fc.constantFrom(
    "a",
    "/",
    ".",
    "..",
    "%2e",
    "%2f",
    "%25",
    ";",
    "?",
    "#",
    "=",
    "\\",
  );
  const verdict = (run: () => string | URL) => {
    try {
      const url = run();
      return new URL(url).href;
    } catch (error) {
      assert.ok(refused(error), String(error));
      return "refused";
    }
  };
  fc.assert(
    fc.property(
      fc.array(fc.array(pieces, { maxLength: 8 }), { minLength: 1, maxLength: 6 }),
      (paths) => {
        for (const parts of [...paths, ...paths]) {
          const path = "/v1/" + parts.join("");
          assert.equal(
            verdict(() => aqcUrl(ROOT, path)),
            verdict(() => resolveAqcUrl(ROOT, path)),
            path,
          );
        }
      },
    ),
    { numRuns: 3000 },
  );
  // An accepted pathname with a fragment after it is still refused.
  assert.equal(aqcUrl(ROOT, "/v1/ok?x=1"), `${ROOT}/v1/ok?x=1`);
  assert.throws(() => aqcUrl(ROOT, "/v1/ok#frag"), refused);
  assert.throws(() => aqcUrl(ROOT, "/v1/ok?x=1#frag"), refused);
});

Deno.test("aqcUrl: memory stays bounded whatever paths are sent, and verdicts survive the restart", () => {
  for (let i = 0; i < 5_000; i++) aqcUrl(ROOT, `/v1/orders/${i}`);
  // The set restarted on the way (512 at most); earlier paths are checked again, still right.
  assert.equal(aqcUrl(ROOT, "/v1/orders/1"), `${ROOT}/v1/orders/1`);
  assert.throws(() => aqcUrl(ROOT, "/v1/orders/../1"), refused);
  // Long pathnames are checked every time rather than remembered.
  const long = `/v1/${"a".repeat(300)}`;
  assert.equal(aqcUrl(ROOT, long), ROOT + long);
});
