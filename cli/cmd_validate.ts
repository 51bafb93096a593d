/**
 * `pipedreamer validate [dir]`: every SPEC §2 rule, each issue located in its file.
 *
 * @module
 */

import type { Command } from "commander";
import { loadWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import type { WorkflowIssue } from "../engine/mod.ts";
import {
  type CliContext,
  ExitCode,
  formatIssues,
  globalOptions,
  printJson,
  printLine,
  relocateIssues,
} from "./_output.ts";

/** Registers `validate`. */
export function registerValidate(program: Command, cli: CliContext): void {
  program
    .command("validate")
    .description("check workflow.yaml and its nodes; exit 1 when invalid")
    .argument("[dir]", "workflow directory", ".")
    .action(async (dir: string, _opts: unknown, command: Command) => {
      const json = globalOptions(command).output === "json";
      let issues: WorkflowIssue[] = [];
      let summary = "";
      try {
        const workflow = await loadWorkflow(dir);
        const nodes = Object.keys(workflow.nodes).length + (workflow.onError ? 1 : 0);
        summary = `✓ ${workflow.name} ${workflow.version} is valid ` +
          `(${nodes} ${nodes === 1 ? "node" : "nodes"}, ${workflow.edges.length} ` +
          `${workflow.edges.length === 1 ? "edge" : "edges"})`;
      } catch (error) {
        if (!(error instanceof WorkflowSyntaxError)) throw error;
        issues = relocateIssues(dir, error.issues);
      }
      if (json) {
        printJson(cli, {
          valid: issues.length === 0,
          errors: issues.map((i) => ({
            file: i.file,
            line: i.line,
            column: i.column,
            message: i.message,
            hint: i.hint ?? null,
          })),
        });
      } else {
        printLine(cli, issues.length === 0 ? summary : formatIssues(issues));
      }
      cli.exitCode = issues.length === 0 ? ExitCode.Ok : ExitCode.Failed;
    });
}
