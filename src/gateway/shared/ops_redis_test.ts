import assert from "../../../tests/helpers/assert.ts";
import { opaqueName } from "./ops_redis.ts";

Deno.test("opaqueName runs without Uint8Array.prototype.toBase64 (missing on Node 20 and Bun)", async () => {
  const proto = Uint8Array.prototype as unknown as Record<string, unknown>;
  const saved = Object.getOwnPropertyDescriptor(proto, "toBase64");
  const expected = await opaqueName("https://test.travel.api.amadeus.com\nclient\nNCE1A0955");
  delete proto.toBase64;
  try {
    const name = await opaqueName("https://test.travel.api.amadeus.com\nclient\nNCE1A0955");
    assert.equal(name, expected);
    assert.match(name, /^[A-Za-z0-9_-]{16}$/);
    assert.ok(!name.includes("NCE1A0955"));
  } finally {
    if (saved !== undefined) Object.defineProperty(proto, "toBase64", saved);
  }
});
