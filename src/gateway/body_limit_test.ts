import assert from "../../tests/helpers/assert.ts";
import { readBodyWithin } from "./body_limit.ts";

const URL_ = "http://gateway.test/aqc/NCE1A0955/v1/x";
/** Never fires: every body below but the trickling one arrives. */
const DEADLINE = new AbortController().signal;

function streamOf(...sizes: number[]): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next === sizes.length) return controller.close();
      pulled++;
      controller.enqueue(new Uint8Array(sizes[next++]).fill(65 + next));
    },
  });
  return { body, pulled: () => pulled };
}

function post(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(URL_, { method: "POST", body, headers });
}

/** The forwarded body's text, or the refusal. */
async function outcome(request: Request, limit: number): Promise<string> {
  const body = await readBodyWithin(request, limit, DEADLINE);
  if (typeof body === "string") return body;
  return `forwarded ${body === null ? "nothing" : new TextDecoder().decode(body)}`;
}

Deno.test("readBodyWithin: a request without a body has none to forward", async () => {
  assert.equal(await readBodyWithin(new Request(URL_), 0, DEADLINE), null);
});

Deno.test("readBodyWithin: a declared Content-Length over the limit is refused unread", async () => {
  const over = post("x".repeat(11), { "content-length": "11" });
  assert.equal(await readBodyWithin(over, 10, DEADLINE), "too_large");
  assert.equal(over.bodyUsed, false, "nothing read to refuse it");
  const fits = post("x".repeat(10), { "content-length": "10" });
  assert.equal(await outcome(fits, 10), `forwarded ${"x".repeat(10)}`);
});

Deno.test("readBodyWithin: a declared length is not believed over the bytes that arrive", async () => {
  // In-process requests (a mount, `gateway.request`) are not held to their length by a
  // server: the bytes are counted whatever the header says.
  assert.equal(await outcome(post("y".repeat(16), { "content-length": "3" }), 10), "too_large");
});

Deno.test("readBodyWithin: a streamed body is read up to the limit and handed on whole", async () => {
  const { body } = streamOf(4, 3, 3);
  assert.equal(await outcome(post(body), 10), "forwarded BBBBCCCDDD");
});

Deno.test("readBodyWithin: a streamed body over the limit stops being read", async () => {
  const { body, pulled } = streamOf(6, 6, 6, 6, 6);
  assert.equal(await readBodyWithin(post(body), 10, DEADLINE), "too_large");
  assert.ok(pulled() <= 3, `read ${pulled()} of 5 chunks: not to the end`);
});

Deno.test("readBodyWithin: a length beside Transfer-Encoding, or not in digits, refuses nothing unread", async () => {
  for (
    const headers of [
      { "content-length": "100", "transfer-encoding": "chunked" },
      { "content-length": "1e3" },
      { "content-length": "-5" },
      { "content-length": "0x100" },
      { "content-length": "" },
    ]
  ) {
    const label = JSON.stringify(headers);
    assert.equal(await outcome(post(streamOf(2, 2).body, headers), 10), "forwarded BBCC", label);
    assert.equal(await outcome(post(streamOf(8, 8).body, headers), 10), "too_large", label);
  }
});

Deno.test("readBodyWithin: a body that breaks off is 'broken', not a failure", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(2));
      controller.error(new TypeError("connection reset"));
    },
  });
  assert.equal(await readBodyWithin(post(body), 10, DEADLINE), "broken");
});

Deno.test("readBodyWithin: refuses and forwards what Hono's bodyLimit does, but for lengths that lie", async () => {
  const { Hono } = await import("@hono/hono/tiny");
  const { bodyLimit } = await import("@hono/hono/body-limit");
  const limit = 10;
  const hono = new Hono().post(
    "*",
    bodyLimit({ maxSize: limit, onError: (c) => c.text("too_large", 413) }),
    async (c) => c.text(`forwarded ${await c.req.raw.text()}`),
  );
  const shapes: [string, () => Request][] = [];
  for (const size of [0, 1, 9, 10, 11, 64]) {
    const text = "z".repeat(size);
    shapes.push([`declared ${size}`, () => post(text, { "content-length": String(size) })]);
    shapes.push([`string ${size}`, () => post(text)]);
    for (const chunk of [1, 3, 10]) {
      const sizes = Array.from(
        { length: Math.ceil(size / chunk) },
        (_, i) => Math.min(chunk, size - i * chunk),
      );
      shapes.push([`stream ${size}/${chunk}`, () => post(streamOf(...sizes).body)]);
      shapes.push([
        `chunked with a length ${size}/${chunk}`,
        () =>
          post(streamOf(...sizes).body, { "content-length": "1", "transfer-encoding": "chunked" }),
      ]);
    }
  }
  for (const [name, make] of shapes) {
    const theirs = await hono.request(make());
    assert.equal(await outcome(make(), limit), await theirs.text(), name);
  }
  // The differences, on purpose: Hono believes a length of 3 (or "1e1", by parseInt) and
  // forwards the 16 bytes that come; here the bytes are counted.
  for (const length of ["3", "1e1"]) {
    const lying = () => post(streamOf(8, 8).body, { "content-length": length });
    assert.equal((await hono.request(lying())).status, 200, length);
    assert.equal(await outcome(lying(), limit), "too_large", length);
  }
});

Deno.test("readBodyWithin: a body still trickling in at the deadline is 'slow', not forwarded in part", async () => {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // One byte now and then; never the end.
      await new Promise((resolve) => setTimeout(resolve, sent++ === 0 ? 0 : 20));
      controller.enqueue(new Uint8Array([65]));
    },
  });
  assert.equal(await readBodyWithin(post(body), 1_000, AbortSignal.timeout(100)), "slow");
  assert.ok(sent < 50, `${sent} pulls: the reading stopped at the deadline`);
});
