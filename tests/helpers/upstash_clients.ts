/**
 * The two Upstash clients aqc-edge builds, for tests that must hold for both: `@upstash/redis`
 * as `createUpstashRedis` configures it (the `./upstash` entry, for library users) and the
 * gateway's own fetch-only client (`createUpstashRest`, what `./gateway` and `./worker` use).
 *
 * @module
 */
import { createUpstashRedis } from "../../src/store/upstash_client.ts";
import { createUpstashRest } from "../../src/store/upstash_rest.ts";
import type { UpstashRedisClient } from "../../src/store/upstash_store.ts";

/** Settings both factories take. */
export interface ClientSettings {
  /** The REST URL (the bridge's). */
  url: string;
  /** The REST token. */
  token: string;
  /** Timeout of one call in ms (default 500). */
  timeoutMs?: number;
}

/** One client factory, named for test titles. */
export interface UpstashClientKind {
  /** `@upstash/redis` or `upstash_rest`. */
  name: string;
  /** Builds a client. */
  create: (settings: ClientSettings) => UpstashRedisClient;
}

/** Both clients, the library's first. */
export const UPSTASH_CLIENTS: readonly UpstashClientKind[] = [
  {
    name: "@upstash/redis",
    create: ({ url, token, timeoutMs }) =>
      createUpstashRedis({ url, token, ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
  },
  {
    name: "upstash_rest",
    create: ({ url, token, timeoutMs }) =>
      createUpstashRest({ url, token, ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
  },
];
