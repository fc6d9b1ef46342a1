/**
 * Paths the proxy route never forwards, whatever the caller's key allows.
 *
 * @module
 */

/** Rounds of percent-decoding, as many as `resolveAqcUrl` checks. */
const DECODE_ROUNDS = 3;

/**
 * Whether `path` (relative to the API root, query allowed) reaches AQC's security API
 * (`/v1/security/…`, the token endpoint among it) in any spelling: any letter case, a
 * `;` parameter on a segment (`/v1;x/security`), trailing dots, or up to three rounds of
 * percent-encoding (`%73ecurity`, `v1%2Fsecurity`). Through the gateway, a request there
 * could only provoke 401s (each once cost the office its token) or reach credentials
 * endpoints; callers never need it.
 *
 * @param path The upstream path.
 * @returns `true` when the gateway must refuse it.
 */
export function isSecurityPath(path: string): boolean {
  const queryAt = path.indexOf("?");
  let text = queryAt === -1 ? path : path.slice(0, queryAt);
  for (let round = 0; round <= DECODE_ROUNDS; round++) {
    if (reachesSecurity(text)) return true;
    if (!text.includes("%")) return false;
    try {
      text = decodeURIComponent(text);
    } catch {
      return false;
    }
  }
  return false;
}

function reachesSecurity(pathname: string): boolean {
  const segments = pathname.toLowerCase().split("/");
  // segments[0] is the empty text before the leading "/".
  return canonical(segments[1]) === "v1" && canonical(segments[2]) === "security";
}

/** A segment as lenient upstreams read it: without `;` parameters and trailing dots or spaces. */
function canonical(segment: string | undefined): string {
  if (segment === undefined) return "";
  const semicolon = segment.indexOf(";");
  return (semicolon === -1 ? segment : segment.slice(0, semicolon)).replace(/[.\s]+$/, "");
}
