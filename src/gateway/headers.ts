/**
 * Which headers cross the gateway: end-to-end ones only (RFC 9110 §7.6.1).
 *
 * @module
 */

/** Hop-by-hop headers, plus those the gateway owns on the way in. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Never forwarded upstream: the caller's key, the host, and lengths fetch recomputes. */
const REQUEST_OWNED = new Set(["authorization", "host", "content-length", "expect"]);

function connectionNamed(headers: Headers): Set<string> {
  const named = new Set<string>();
  const value = headers.get("connection");
  if (value !== null) {
    for (const token of value.split(",")) {
      const name = token.trim().toLowerCase();
      if (name !== "") named.add(name);
    }
  }
  return named;
}

/**
 * Copies the end-to-end headers of a caller's request in one pass: drops hop-by-hop
 * headers and every header named in `Connection`, the caller's `Authorization` (their
 * gateway key), `Proxy-Authorization`, `Host` and `Content-Length`.
 *
 * Returns name/value pairs rather than a `Headers`: whoever sends them builds its
 * `Headers` from the pairs at once, where copying a `Headers` would iterate (sort and
 * combine) it again.
 *
 * @param headers The caller's headers.
 * @returns Headers safe to send to AQC (the bearer is set afterwards).
 */
export function forwardRequestHeaders(headers: Headers): [string, string][] {
  const named = connectionNamed(headers);
  const out: [string, string][] = [];
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) || REQUEST_OWNED.has(name) || named.has(name)) continue;
    out.push([name, value]);
  }
  return out;
}

/**
 * Copies the end-to-end headers of AQC's answer in one pass: drops hop-by-hop headers
 * and every header named in `Connection`. Pairs, for the same reason as
 * {@linkcode forwardRequestHeaders}.
 *
 * @param headers AQC's headers.
 * @returns Headers to send to the caller.
 */
export function forwardResponseHeaders(headers: Headers): [string, string][] {
  const named = connectionNamed(headers);
  const out: [string, string][] = [];
  let cookies = false;
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    // Set-Cookie is the one header Headers iteration may fold; copied faithfully below.
    if (name === "set-cookie") cookies = true;
    else out.push([name, value]);
  }
  if (cookies) { for (const cookie of headers.getSetCookie()) out.push(["set-cookie", cookie]); }
  return out;
}
