/**
 * Validation of the credentials every token request is made with.
 *
 * @module
 */
import { AqcError } from "../errors.ts";
import type { Credentials } from "./types.ts";

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Checks an AQC API root: an absolute `https:` URL without credentials, query or
 * fragment (`http:` only on loopback, for local simulators). Returns it without a
 * trailing slash.
 *
 * @example
 * ```ts
 * import { validateApiUrl } from "./credentials.ts";
 *
 * if (validateApiUrl("https://test.travel.api.amadeus.com/") !== "https://test.travel.api.amadeus.com") throw new Error("unexpected");
 * let refused = "";
 * try {
 *   validateApiUrl("http://api.example.com");
 * } catch (error) {
 *   refused = String(error);
 * }
 * if (!/must use https/.test(refused)) throw new Error("plain http must be refused");
 * ```
 *
 * @param value The URL as configured.
 * @param name The setting's name for the error message.
 * @returns The URL without a trailing slash.
 * @throws {AqcError} `config_invalid` naming the setting.
 */
export function validateApiUrl(value: unknown, name = "apiUrl"): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new AqcError("config_invalid", `${name} is required`);
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new AqcError("config_invalid", `${name} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new AqcError("config_invalid", `${name} must use https (http only on loopback)`);
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new AqcError(
      "config_invalid",
      `${name} must not contain credentials, a query or a fragment`,
    );
  }
  return url.href.replace(/\/+$/, "");
}

/**
 * Checks a set of credentials and returns a normalised copy. Messages name the field
 * that is wrong and never print the secret.
 *
 * @example
 * ```ts
 * import { validateCredentials } from "./credentials.ts";
 *
 * const credentials = validateCredentials({
 *   apiUrl: "https://test.travel.api.amadeus.com",
 *   clientId: "my-client-id",
 *   clientSecret: "my-client-secret",
 * });
 * if (credentials.apiUrl !== "https://test.travel.api.amadeus.com") throw new Error("unexpected");
 * ```
 *
 * @param credentials The credentials as given.
 * @returns A validated copy.
 * @throws {AqcError} `config_invalid`.
 */
export function validateCredentials(credentials: Credentials): Credentials {
  if (typeof credentials !== "object" || credentials === null) {
    throw new AqcError("config_invalid", "credentials are required");
  }
  const apiUrl = validateApiUrl(credentials.apiUrl, "credentials.apiUrl");
  for (const field of ["clientId", "clientSecret"] as const) {
    const value = credentials[field];
    if (typeof value !== "string" || value.trim() === "") {
      throw new AqcError("config_invalid", `credentials.${field} is required`);
    }
    if (/[\r\n\0]/.test(value)) {
      throw new AqcError("config_invalid", `credentials.${field} contains a control character`);
    }
  }
  return { apiUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret };
}
