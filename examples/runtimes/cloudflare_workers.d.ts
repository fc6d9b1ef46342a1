/**
 * `cloudflare:workers` as the Workers snippet uses it: the project's declarations plus the
 * module-scope `env` (workerd's bindings, readable at import time). Real projects get these
 * from `@cloudflare/workers-types`.
 */
export * from "../../src/types/cloudflare_workers.d.ts";

/** The Worker's bindings, available at module scope. */
export declare const env: Record<string, unknown>;
