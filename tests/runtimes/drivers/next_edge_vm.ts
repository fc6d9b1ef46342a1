/**
 * The Next.js Edge route snippet inside the Edge Runtime: its `GET` answers the sandbox's
 * `fetch` events, as Next.js wires a route with `export const runtime = "edge"`.
 * Bundled as one classic script.
 *
 * @module
 */
import { GET } from "../../../examples/runtimes/nextjs_edge_route.ts";

/** The Edge Runtime's `FetchEvent`, as far as this script uses it. */
interface FetchEventLike {
  request: Request;
  respondWith(response: Response | Promise<Response>): void;
}

(globalThis as unknown as {
  addEventListener(type: "fetch", listener: (event: FetchEventLike) => void): void;
}).addEventListener("fetch", (event) => event.respondWith(GET(event.request)));
