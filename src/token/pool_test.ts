import assert from "../../tests/helpers/assert.ts";
import { mapLimited } from "./pool.ts";

Deno.test("mapLimited: at most `limit` in flight, results in order, empty input", async () => {
  let inFlight = 0;
  let max = 0;
  const results = await mapLimited(Array.from({ length: 50 }, (_, i) => i), 4, async (n) => {
    max = Math.max(max, ++inFlight);
    await new Promise((r) => setTimeout(r, n % 3));
    inFlight--;
    return n * 2;
  });
  assert.equal(max, 4);
  assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => i * 2));
  assert.deepEqual(await mapLimited([], 4, () => Promise.resolve(1)), []);
});
