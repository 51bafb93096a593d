/**
 * `exec` and `test` refuse to run node files that do not compile, with validate's message
 * (engine typecheckWorkflow(), node files only: edge types are validate's business).
 *
 * @module
 */

import { type CompiledWorkflow, typecheckWorkflow } from "../engine/mod.ts";
import { type CliContext, ExitCode, formatIssues, printError, relocateIssues } from "./_output.ts";

/**
 * Type-checks the TypeScript node files of `workflow` (or only `nodes`); when one does not
 * compile, prints the issues to stderr (JSON lines with `-o json`), sets exit code 1 and
 * returns false.
 */
export async function nodesCompile(
  cli: CliContext,
  workflow: CompiledWorkflow,
  dir: string,
  options: { json: boolean; nodes?: readonly string[] },
): Promise<boolean> {
  const issues = await typecheckWorkflow(workflow, { nodesOnly: true, only: options.nodes });
  if (issues.length === 0) return true;
  const located = relocateIssues(dir, issues);
  if (options.json) {
    for (const issue of located) printError(cli, JSON.stringify({ level: "error", ...issue }));
  } else {
    printError(cli, formatIssues(located));
  }
  cli.exitCode = ExitCode.Failed;
  return false;
}
