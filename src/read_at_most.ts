/**
 * Reading a body up to a size limit: for bodies the project reads whole but must bound
 * (AQC's 401 bodies, Upstash's answers, a caller's streamed request body).
 *
 * @module
 */

/**
 * The bytes of `body`, or `undefined` once more than `limit` bytes arrived (the rest is not
 * read; the stream is cancelled). A read error rejects.
 *
 * @param body The stream to read.
 * @param limit Most bytes accepted.
 * @returns The bytes, or `undefined` past the limit.
 */
export async function readBytesAtMost(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) return undefined;
      chunks.push(value);
    }
  } finally {
    // Cancels whatever is left (nothing, after the end); never awaited: a tee's branch
    // resolves its cancel only once the other branch is done too.
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
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
