import assert from "../tests/helpers/assert.ts";
import { readBytesAtMost, readTextAtMost } from "./read_at_most.ts";

/** A stream of `texts`, each chunk a view at the start of a buffer of `backing` bytes. */
function viewsStream(texts: string[], backing = 65_536) {
  const buffers: Uint8Array[] = [];
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      // What was handed over before is overwritten now, as a runtime reusing its buffers
      // would: a reader that kept the view instead of copying it would see the change.
      buffers.pop()?.fill(0x21);
      if (next === texts.length) return controller.close();
      const bytes = new TextEncoder().encode(texts[next++]);
      const buffer = new Uint8Array(backing);
      buffer.set(bytes);
      buffers.push(buffer);
      controller.enqueue(buffer.subarray(0, bytes.byteLength));
    },
  });
  return body;
}

Deno.test("readBytesAtMost: copies each chunk as it arrives and keeps no view of it", async () => {
  const texts = Array.from({ length: 2_000 }, (_, i) => String.fromCharCode(97 + (i % 26)));
  const bytes = await readBytesAtMost(viewsStream(texts, 4_096), 1 << 20);
  assert.ok(bytes !== undefined);
  assert.equal(new TextDecoder().decode(bytes), texts.join(""));
  // Exactly the body: not a view into a larger buffer either.
  assert.equal(bytes.buffer.byteLength, texts.length);
});

Deno.test("readBytesAtMost: the limit is inclusive; one byte more is undefined", async () => {
  const chunks = ["abcd", "efgh", "ij"];
  assert.equal(
    new TextDecoder().decode(await readBytesAtMost(viewsStream(chunks), 10)),
    "abcdefghij",
  );
  assert.equal(await readBytesAtMost(viewsStream(chunks), 9), undefined);
  assert.equal((await readBytesAtMost(viewsStream([]), 0))?.byteLength, 0);
  assert.equal(await readBytesAtMost(viewsStream(["x"]), 0), undefined);
});

Deno.test("readBytesAtMost: grows past its first buffer to bodies of the whole limit", async () => {
  const chunk = "0123456789abcdef".repeat(4_096); // 64 KiB
  const bytes = await readBytesAtMost(viewsStream([chunk, chunk, chunk, "tail"], 200_000), 1 << 20);
  assert.equal(bytes?.byteLength, 3 * chunk.length + 4);
  assert.equal(new TextDecoder().decode(bytes).slice(-6), "eftail");
});

Deno.test("readTextAtMost: a character split across chunks decodes whole", async () => {
  const euro = new TextEncoder().encode("€"); // 3 bytes
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(euro.subarray(0, 1));
      controller.enqueue(euro.subarray(1));
      controller.close();
    },
  });
  assert.equal(await readTextAtMost(body, 3), "€");
});

Deno.test("readBytesAtMost: a signal stops the reading with its reason, never with part of the body", async () => {
  const stop = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([1, 2, 3]));
      // Then nothing: the read waits until the signal fires.
    },
  });
  const reading = readBytesAtMost(body, 100, { signal: stop.signal });
  setTimeout(() => stop.abort(new RangeError("too slow")), 10);
  await assert.rejects(reading, RangeError);
});

Deno.test("readBytesAtMost: an expected length sizes the buffer, and a body that says less still fits", async () => {
  const bytes = await readBytesAtMost(viewsStream(["abc", "defg"]), 100, { expected: 7 });
  assert.equal(new TextDecoder().decode(bytes), "abcdefg");
  assert.equal(bytes?.buffer.byteLength, 7, "no growth, no copy");
  const more = await readBytesAtMost(viewsStream(["abc", "defg"]), 100, { expected: 2 });
  assert.equal(new TextDecoder().decode(more), "abcdefg");
});

Deno.test("readBytesAtMost: a declared length is not allocated before the bytes come", async () => {
  let close: () => void = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([1]));
      close = () => controller.close();
    },
  });
  const before = Deno.memoryUsage().external;
  const reading = readBytesAtMost(body, 256 << 20, { expected: 256 << 20 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  // A 256 MiB buffer for a body that sent one byte would show here.
  const grown = Deno.memoryUsage().external - before;
  close();
  assert.equal((await reading)?.byteLength, 1);
  assert.ok(grown < 64 << 20, `external memory grew by ${(grown / 1e6).toFixed(0)} MB`);
});
