/**
 * Serves the Supabase/Netlify snippet's handler the way a Supabase function's `index.ts`
 * does (`Deno.serve(handler)`), on a free loopback port, and prints where it listens.
 *
 * @module
 */
import handler from "../../../examples/runtimes/supabase_netlify.ts";

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`Listening on http://127.0.0.1:${port}`),
}, handler);
