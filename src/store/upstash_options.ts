/**
 * The checks both Upstash clients make of their options (`createUpstashRedis` of the
 * `./upstash` entry and the gateway's `createUpstashRest`), in one place.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import { validateApiUrl } from "../token/credentials.ts";

/**
 * Validated Upstash client options: the timeout (default 500 ms), and a URL that is https
 * (http on loopback only, for the dev bridge: the REST token grants full access to the
 * database), and a non-empty token. Messages never quote a value.
 *
 * @param options URL, token, timeout as given.
 * @returns The URL as validated, and the timeout.
 * @throws {AqcError} `config_invalid`.
 */
export function validateUpstashOptions(
  options: { url: string; token: string; timeoutMs?: number | undefined },
): { url: string; timeoutMs: number } {
  const timeoutMs = options.timeoutMs ?? 500;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new AqcError("config_invalid", "Upstash timeoutMs must be a positive number of ms");
  }
  const url = validateApiUrl(options.url, "Upstash url");
  if (typeof options.token !== "string" || options.token.trim() === "") {
    throw new AqcError("config_invalid", "Upstash token must not be empty");
  }
  return { url, timeoutMs };
}
