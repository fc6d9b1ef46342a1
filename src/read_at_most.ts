/**
 * Reading a body up to a size limit: for bodies the project reads whole but must bound
 * (AQC's 401 bodies, Upstash's answers, a caller's request body).
 *
 * @module
 */

/** The first buffer's size when no length is expected: a JSON request or an error answer. */
const FIRST_BUFFER = 4 * 1024;

/** The largest first buffer, whatever length is expected; it grows as bytes arrive. */
const MAX_FIRST_BUFFER = 64 * 1024;

/** Options of {@linkcode readBytesAtMost}. */
export interface ReadAtMostOptions {
  /**
   * Stops the reading (the stream is cancelled, and the call rejects with the signal's
   * reason), e.g. a deadline for a body that trickles in.
   */
  signal?: AbortSignal | undefined;
  /** The length the body says it has (`Content-Length`): the first buffer's size, capped. */
  expected?: number | undefined;
}

/**
 * The bytes of `body`, or `undefined` once more than `limit` bytes arrived (the rest is not
 * read; the stream is cancelled). A read error rejects.
 *
 * Each chunk is copied into one buffer as it arrives, never kept: a runtime's chunk may be
 * a small view into a large buffer (Deno hands a request body's chunks over as views into
 * 64 KiB buffers), and keeping a million 1-byte chunks of a chunked body would have pinned
 * 64 GiB for a 1 MiB body (found by the red team).
 *
 * @param body The stream to read.
 * @param limit Most bytes accepted.
 * @param options A signal that stops the reading; the expected length.
 * @returns The bytes, or `undefined` past the limit.
 */
export async function readBytesAtMost(
  body: ReadableStream<Uint8Array>,
  limit: number,
  { signal, expected }: ReadAtMostOptions = {},
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = body.getReader();
  // A cancelled reader ends its pending read as if the stream were done: the signal is
  // checked after every read, so that a cut-off body is never taken for a whole one.
  const stop = (): void => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  // A declared length sizes the buffer, but only up to MAX_FIRST_BUFFER before any byte has
  // come: a caller declaring the limit and sending one byte must not make every request
  // allocate the whole limit (red team: 4,000 held requests, 4.5 GB of external memory).
  let buffer = new Uint8Array(Math.min(limit, expected ?? FIRST_BUFFER, MAX_FIRST_BUFFER));
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      if (size + value.byteLength > limit) return undefined;
      if (size + value.byteLength > buffer.byteLength) {
        // Doubling: what is allocated stays within twice what has arrived.
        const grown = new Uint8Array(
          Math.min(limit, Math.max(size + value.byteLength, buffer.byteLength * 2)),
        );
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(value, size);
      size += value.byteLength;
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    // Cancels whatever is left (nothing, after the end); never awaited: a tee's branch
    // resolves its cancel only once the other branch is done too.
    reader.cancel().catch(() => {});
  }
  return size === buffer.byteLength ? buffer : buffer.slice(0, size);
}

/**
 * The bytes of `body` as UTF-8 text, or `undefined` past `limit` bytes (see
 * {@linkcode readBytesAtMost}).
 *
 * @param body The stream to read.
 * @param limit Most bytes accepted.
 * @returns The text, or `undefined` past the limit.
 */
export async function readTextAtMost(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<string | undefined> {
  const bytes = await readBytesAtMost(body, limit);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
