/**
 * HTTP/1.1 exactly as written: a request target and header lines that `fetch` would
 * normalise, merge or refuse (duplicate headers, `Host` overrides, encoded paths).
 *
 * @module
 */

/** An answer read off the wire. */
export interface RawResponse {
  /** The status code (0 when the server closed without answering). */
  status: number;
  /** Header lines, lower-case names, in order. */
  headers: Array<[string, string]>;
  /** The body, de-chunked, as text. */
  body: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Sends one request on a fresh connection and reads the answer.
 *
 * @param base The server, e.g. `http://127.0.0.1:8000` (loopback only).
 * @param requestLine E.g. `GET /aqc/NCE1A0955/v1/echo/x HTTP/1.1`.
 * @param headerLines Header lines as sent, e.g. `["Host: x", "Authorization: Bearer k"]`.
 * @param body An optional body (its `Content-Length` is not added).
 * @returns The answer.
 */
export async function rawHttp(
  base: string,
  requestLine: string,
  headerLines: readonly string[],
  body = "",
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  if (hostname !== "127.0.0.1" && hostname !== "localhost") {
    throw new Error("rawHttp only talks to loopback");
  }
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const timer = setTimeout(() => conn.close(), 10_000);
  try {
    await conn.write(
      encoder.encode([requestLine, ...headerLines].join("\r\n") + "\r\n\r\n" + body),
    );
    let bytes = new Uint8Array(0);
    const buffer = new Uint8Array(16_384);
    const more = async (): Promise<boolean> => {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) return false;
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(buffer.subarray(0, n), bytes.length);
      bytes = next;
      return true;
    };
    let headEnd = -1;
    while ((headEnd = indexOf(bytes, "\r\n\r\n")) === -1) {
      if (!(await more())) return { status: 0, headers: [], body: decoder.decode(bytes) };
    }
    const head = decoder.decode(bytes.subarray(0, headEnd)).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0])?.[1] ?? 0);
    const headers = head.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
    const header = (name: string) => headers.find(([n]) => n === name)?.[1];
    const start = headEnd + 4;
    const length = header("content-length");
    if (length !== undefined) {
      while (bytes.length < start + Number(length) && (await more()));
      return {
        status,
        headers,
        body: decoder.decode(bytes.subarray(start, start + Number(length))),
      };
    }
    if (header("transfer-encoding")?.toLowerCase() === "chunked") {
      while (indexOf(bytes.subarray(start), "0\r\n\r\n") === -1 && (await more()));
      return { status, headers, body: decoder.decode(dechunk(bytes.subarray(start))) };
    }
    if (status === 204 || status === 304) return { status, headers, body: "" };
    while (await more());
    return { status, headers, body: decoder.decode(bytes.subarray(start)) };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer already.
    }
  }
}

function indexOf(bytes: Uint8Array, text: string): number {
  const needle = encoder.encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function dechunk(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const eol = indexOf(bytes.subarray(at), "\r\n");
    if (eol === -1) break;
    const size = parseInt(decoder.decode(bytes.subarray(at, at + eol)), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(bytes.subarray(at + eol + 2, at + eol + 2 + size));
    at += eol + 2 + size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
