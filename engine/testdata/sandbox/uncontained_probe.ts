/**
 * Run by engine/runners/create_runner_test.ts in a deno process that may not run deno (no
 * `--allow-run`): `createRunner()` cannot start sandbox processes, runs the node in a worker,
 * and must say so. Prints `{ output, warnings }` as JSON.
 *
 * @module
 */

import { createRunner } from "../../runners/create_runner.ts";
import { callOf, moduleNode, workflowOf } from "./helpers.ts";

const runner = createRunner();
try {
  const test = callOf(workflowOf([moduleNode("echo", "echo")]), "echo", { input: 7 });
  const { output } = await runner.run(test.call, new AbortController().signal);
  const warnings = test.logs.filter((line) => line.level === "warn").map((line) => line.msg);
  console.log(JSON.stringify({ output, warnings }));
} finally {
  await runner.close();
}
