import assert from "../../tests/helpers/assert.ts";
import { AqcError } from "../errors.ts";
import { OfficeTable, reject, REJECTED_PER_OFFICE } from "./offices.ts";

const office = (n: number): string => `NCE${String(n).padStart(6, "0")}`;

Deno.test("OfficeTable: bounded, least recently used dropped with its spellings", () => {
  const table = new OfficeTable(3);
  const a = table.get(office(1));
  table.get(office(1).toLowerCase());
  const b = table.get(office(2));
  table.get(office(3));
  assert.equal(table.get(office(1)), a, "touch keeps it young");
  table.get(office(4)); // drops office 2, the least recently used
  assert.equal(table.size, 3);
  assert.equal(table.get(office(1).toLowerCase()), a, "alias still maps while the entry lives");
  assert.notEqual(table.get(office(2)), b, "office 2 was dropped: a new entry");
  assert.equal(table.size, 3);
  for (let i = 10; i < 10_000; i++) table.get(` ${office(i).toLowerCase()} `);
  assert.equal(table.size, 3);
  assert.ok(table.aliasCount <= 3 * 4, `${table.aliasCount} aliases`);
});

Deno.test("OfficeTable: spellings per office are capped; invalid ids throw office_invalid", () => {
  const table = new OfficeTable(10);
  const spellings = [
    "nce1a0955",
    "Nce1a0955",
    "nCe1a0955",
    " NCE1A0955",
    "NCE1A0955 ",
    "ncE1A0955",
  ];
  for (const s of spellings) table.get(s);
  assert.equal(table.size, 1);
  assert.equal(table.aliasCount, 4);
  assert.throws(
    () => table.get("../x"),
    (e) => e instanceof AqcError && e.code === "office_invalid",
  );
  assert.equal(table.size, 1);
});

Deno.test("OfficeTable: an entry with a refresh in flight is dropped last", () => {
  const table = new OfficeTable(2);
  const busy = table.get(office(1));
  busy.flight = { promise: new Promise(() => {}), background: false };
  table.get(office(2));
  table.get(office(3));
  assert.equal(table.get(office(1)), busy);
});

Deno.test("OfficeTable: offices that never held a token are dropped before one that did", () => {
  const table = new OfficeTable(3);
  const served = table.get(office(1));
  served.known = true;
  for (let i = 10; i < 1_000; i++) table.get(office(i));
  assert.equal(table.size, 3);
  assert.equal(table.get(office(1)), served, "a flood of new ids does not push it out");
  const b = table.get(office(2));
  b.known = true;
  const c = table.get(office(3));
  c.known = true;
  table.get(office(4)); // every other entry is known: the least recently used goes
  assert.notEqual(table.get(office(1)), served);
});

Deno.test("reject: remembers each refused token once, the last REJECTED_PER_OFFICE of them", () => {
  const entry = new OfficeTable(1).get(office(1));
  reject(entry, "t0");
  reject(entry, "t0");
  assert.deepEqual(entry.rejected, ["t0"], "a token refused twice is one entry");
  for (let i = 1; i <= REJECTED_PER_OFFICE; i++) reject(entry, `t${i}`);
  assert.equal(entry.rejected.length, REJECTED_PER_OFFICE);
  assert.ok(!entry.rejected.includes("t0"), "the oldest is forgotten");
  assert.equal(entry.rejected.at(-1), `t${REJECTED_PER_OFFICE}`);
});
