/**
 * Joining a caller's path to the API root without ever leaving it.
 *
 * @module
 */
import { AqcError } from "../errors.ts";

function refuse(reason: string): AqcError {
  return new AqcError("path_invalid", `Request path ${reason}`);
}

/**
 * A `.` or `..` segment anywhere in a path, also with a `;` parameter (`..;`, `.;x`):
 * Tomcat-style upstreams drop the parameter and then follow the traversal.
 */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:[/;]|$)/;

/** A percent-escape still present after the decode rounds (e.g. four levels of `%25`). */
const ESCAPE = /%[0-9A-Fa-f]{2}/;

/** Rounds of percent-decoding a path is checked after. */
const DECODE_ROUNDS = 3;

interface Root {
  apiUrl: string;
  /** `href` without trailing slashes. */
  base: string;
  origin: string;
  /** `pathname` without trailing slashes. */
  path: string;
  /** Pathnames (no query) already accepted below this root, see {@linkcode aqcUrl}. */
  accepted: Set<string>;
}

/** The last API root parsed: an application calls one (or very few) API roots. */
let lastRoot: Root | undefined;

function parseRoot(apiUrl: string): Root {
  if (lastRoot?.apiUrl === apiUrl) return lastRoot;
  const root = new URL(apiUrl);
  lastRoot = {
    apiUrl,
    base: root.href.replace(/\/+$/, ""),
    origin: root.origin,
    path: root.pathname.replace(/\/+$/, ""),
    accepted: new Set(),
  };
  return lastRoot;
}

/**
 * Accepted pathnames remembered per root. An application calls a few dozen AQC operations
 * (ids in paths make more); past this many the set starts again, so memory stays bounded
 * whatever paths callers send.
 */
const MAX_ACCEPTED = 512;

/** Longest pathname remembered (longer ones are checked every time). */
const MAX_REMEMBERED_LENGTH = 256;

/**
 * {@linkcode resolveAqcUrl} as the string `fetch` is given, with the verdict on each
 * pathname remembered: a warm call skips the decode rounds and the URL parse (about 1 µs
 * on Deno). The check only ever reads the pathname; the query is appended as it is, and a
 * fragment is refused on every call. The transport parses the same string the check
 * parsed, so it reaches the same URL.
 *
 * @param apiUrl The validated API root (no trailing slash).
 * @param path An absolute path, optionally with `?query`.
 * @returns The full URL, as a string.
 * @throws {AqcError} `path_invalid`.
 */
export function aqcUrl(apiUrl: string, path: string): string {
  if (typeof path === "string") {
    const root = parseRoot(apiUrl);
    const queryAt = path.indexOf("?");
    const pathname = queryAt === -1 ? path : path.slice(0, queryAt);
    if (root.accepted.has(pathname) && !path.includes("#")) return root.base + path;
    resolveAqcUrl(apiUrl, path);
    if (pathname.length <= MAX_REMEMBERED_LENGTH) {
      if (root.accepted.size >= MAX_ACCEPTED) root.accepted.clear();
      root.accepted.add(pathname);
    }
    return root.base + path;
  }
  return resolveAqcUrl(apiUrl, path).href;
}

/**
 * Resolves `path` (with its query string) below `apiUrl`. The path must start with a
 * single `/` and may not contain empty, `.` or `..` segments (also with a `;` parameter,
 * as in `..;`), backslashes, spaces or control characters, written plainly or
 * percent-encoded in any casing (at most three levels deep), so that no
 * spelling of it escapes the API root or reaches another host. An encoded slash inside a
 * segment (`%2F`, found in base64 order ids) is allowed.
 *
 * @example
 * ```ts
 * import { resolveAqcUrl } from "./aqc_path.ts";
 *
 * const url = resolveAqcUrl("https://test.travel.api.amadeus.com", "/v2/shopping/flight-offers?adults=1");
 * if (url.href !== "https://test.travel.api.amadeus.com/v2/shopping/flight-offers?adults=1") throw new Error("unexpected");
 * ```
 *
 * @param apiUrl The validated API root (no trailing slash).
 * @param path An absolute path, optionally with `?query`.
 * @returns The full URL.
 * @throws {AqcError} `path_invalid`.
 */
export function resolveAqcUrl(apiUrl: string, path: string): URL {
  if (typeof path !== "string" || !path.startsWith("/")) throw refuse("must start with /");
  if (path.startsWith("//")) throw refuse("must not start with //");
  const queryAt = path.indexOf("?");
  const pathname = queryAt === -1 ? path : path.slice(0, queryAt);
  if (path.includes("#")) throw refuse("must not contain a fragment");
  // Checked after each round of decoding too: an upstream that decodes %2e%2e%2f (or
  // decodes twice) must still find no traversal to follow.
  const spellings = [pathname];
  for (let round = 0; round < DECODE_ROUNDS && spellings[round].includes("%"); round++) {
    try {
      spellings.push(decodeURIComponent(spellings[round]));
    } catch {
      // Raw text must be well-formed; a decoded "%" (from "%25") may stay literal.
      if (round === 0) throw refuse("has a malformed percent-encoding");
      break;
    }
  }
  // An upstream that decodes once more than we did would see what we never checked.
  if (spellings.length > DECODE_ROUNDS && ESCAPE.test(spellings[DECODE_ROUNDS])) {
    throw refuse("has too many levels of percent-encoding");
  }
  for (const text of spellings) {
    // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
    if (/[\x00-\x20\x7f\\]/.test(text)) {
      throw refuse("must not contain spaces, control characters or backslashes");
    }
    if (DOT_SEGMENT.test(text)) throw refuse("must not contain . or .. segments");
    // In any spelling, "//" is an empty segment or the start of an absolute URL.
    if (text.includes("//")) throw refuse("must not contain empty segments or URLs");
  }
  const root = parseRoot(apiUrl);
  const url = new URL(root.base + path);
  // Belt and braces: whatever the parser made of it, it must still be below the root.
  if (url.origin !== root.origin || !url.pathname.startsWith(root.path + "/")) {
    throw refuse("must stay below the API root");
  }
  return url;
}
