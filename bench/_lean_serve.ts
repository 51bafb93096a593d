/**
 * `serve` without the CLI: `startServer()` from server/mod.ts in a fresh process, so the
 * start-up workload can show what the CLI's own imports add to `pipedreamer serve` (the same
 * server, store and runner; no commander, no k8s client).
 *
 * Usage: deno run --allow-all --no-prompt --unstable-worker-options bench/_lean_serve.ts <dir> <data dir>
 *
 * @module
 */

import { startServer } from "../server/mod.ts";

const [dir, dataDir] = Deno.args;
if (dir === undefined || dataDir === undefined) {
  console.error("Usage: _lean_serve.ts <workflow dir> <data dir>");
  Deno.exit(2);
}
const server = await startServer({
  dir,
  dataDir,
  port: 0,
  host: "127.0.0.1",
  noAuth: true,
  onEvent: (event) => {
    if (event.type === "listening") console.error(`listening on ${event.url}`);
  },
});
await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", () => resolve()));
await server.shutdown();
Deno.exit(0);
