/**
 * Compressed answers, as real AQC sends them when the request's `Accept-Encoding` allows:
 * so tests meet `Content-Encoding` the way a deployment does.
 *
 * @module
 */
import { brotliCompressSync, constants } from "node:zlib";

/**
 * Brotli at quality 4, like servers that compress on the fly (Cloudflare's default): node's
 * default, 11, is an offline setting that took ~100 ms per flight-offers answer and made the
 * simulator, not the code under test, the bottleneck of every benchmark and load test.
 */
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };

/** The encoding to answer with: `br`, else `gzip`, when accepted (q > 0), else none. */
export function chooseEncoding(acceptEncoding: string | null): "br" | "gzip" | undefined {
  if (acceptEncoding === null) return undefined;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    accepted.add(name.trim());
  }
  if (accepted.has("br")) return "br";
  if (accepted.has("gzip")) return "gzip";
  return undefined;
}

/**
 * `response` compressed for a request accepting `br` or `gzip`, with `Content-Encoding`,
 * the compressed `Content-Length` and `Vary: Accept-Encoding`; unchanged when the request
 * accepts neither, the answer has no body, or it is already encoded.
 *
 * @param response The plain answer.
 * @param acceptEncoding The request's `Accept-Encoding`.
 * @returns The answer to send.
 */
export async function compressed(
  response: Response,
  acceptEncoding: string | null,
): Promise<Response> {
  const encoding = chooseEncoding(acceptEncoding);
  if (encoding === undefined || response.body === null) return response;
  if (response.headers.has("content-encoding")) return response;
  const plain = new Uint8Array(await response.arrayBuffer());
  const bytes = encoding === "br"
    ? new Uint8Array(brotliCompressSync(plain, BROTLI))
    : new Uint8Array(
      await new Response(new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip")))
        .arrayBuffer(),
    );
  const headers = new Headers(response.headers);
  headers.set("content-encoding", encoding);
  headers.set("content-length", String(bytes.byteLength));
  headers.append("vary", "Accept-Encoding");
  return new Response(bytes, { status: response.status, statusText: response.statusText, headers });
}
