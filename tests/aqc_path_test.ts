import assert from "node:assert/strict";
import fc from "fast-check";
import { AqcError } from "../src/mod.ts";
import { resolveAqcUrl } from "../src/fetch/aqc_path.ts";

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
