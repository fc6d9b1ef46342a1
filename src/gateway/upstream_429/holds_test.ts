import assert from "../../../tests/helpers/assert.ts";
import { DEFAULT_HOLD_MS, MAX_HELD_OFFICES, MAX_HOLD_MS, UpstreamHolds } from "./holds.ts";

Deno.test("holds: Retry-After bounds, expiry, and a bounded number of offices", async () => {
  let now = 1_000_000;
  const holds = new UpstreamHolds({ scope: "s", now: () => now });
  await holds.record("NCE1A0955", 4);
  assert.equal(holds.remainingMs("NCE1A0955"), 4_000);
  await holds.record("NCE1A0955", 1); // a shorter hold never shortens one in force
  assert.equal(holds.remainingMs("NCE1A0955"), 4_000);
  await holds.record("DELAI08AA", undefined);
  assert.equal(holds.remainingMs("DELAI08AA"), DEFAULT_HOLD_MS);
  await holds.record("PARAF08AA", 1e9);
  assert.equal(holds.remainingMs("PARAF08AA"), MAX_HOLD_MS);
  now += 4_000;
  assert.equal(holds.remainingMs("NCE1A0955"), 0);
  for (let i = 0; i < MAX_HELD_OFFICES * 3; i++) await holds.record(`X${i}`, 60);
  assert.ok(holds.held().size <= MAX_HELD_OFFICES);
  assert.equal(holds.poll("NCE1A0955"), undefined, "no Redis: nothing to poll");
});
