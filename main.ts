/**
 * The `pipedreamer` binary: the operator CLI and the container entrypoint (`pipedreamer serve`).
 *
 * @module
 */

import { runCli } from "./cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
