/**
 * `pipedreamer validate [dir]`: every SPEC §2 rule, each issue located in its file.
 *
 * @module
 */

import type { Command } from "commander";
import {
  compileWorkflow,
  loadWorkflowSource,
  typecheckWorkflow,
  WorkflowSyntaxError,
} from "../engine/mod.ts";
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
import { concurrencyNote } from "./_concurrency_note.ts";

/** Registers `validate`. */
export function registerValidate(program: Command, cli: CliContext): void {
  program
    .command("validate")
    .description("check workflow.yaml and its nodes; exit 1 when invalid")
    .argument("[dir]", "workflow directory", ".")
    .option("--no-typecheck", "skip type-checking the node files and the edges' types")
    .action(async (dir: string, opts: { typecheck: boolean }, command: Command) => {
      const json = globalOptions(command).output === "json";
      let issues: WorkflowIssue[] = [];
      let summary = "";
      const notes: string[] = [];
      try {
        const source = await loadWorkflowSource(dir);
        const workflow = compileWorkflow(source.parsed, {
          dir: source.dir,
          sources: source.sources,
          workflowText: source.text,
        });
        if (opts.typecheck) {
          const typeIssues = await typecheckWorkflow(workflow, { parsed: source.parsed });
          if (typeIssues.length > 0) throw new WorkflowSyntaxError(typeIssues);
        }
        for (const node of Object.values(workflow.nodes)) {
          if (node.kind === "command" && node.capabilities.net.length > 0) {
            notes.push(
              `note: command node "${node.id}" declares net (${
                node.capabilities.net.join(", ")
              }), ` +
                "but its OS sandbox cannot filter hosts: it may reach any host",
            );
          }
        }
        const note = concurrencyNote(workflow);
        if (note) notes.push(note);
        // Counted as `exec --dry-run` counts them: the DAG's nodes, onError apart.
        const nodes = Object.keys(workflow.nodes).length;
        summary = `✓ ${workflow.name} ${workflow.version} is valid ` +
          `(${nodes} ${nodes === 1 ? "node" : "nodes"}` +
          `${workflow.onError ? ` and onError "${workflow.onError.id}"` : ""}, ` +
          `${workflow.edges.length} ${workflow.edges.length === 1 ? "edge" : "edges"})`;
      } catch (error) {
        if (!(error instanceof WorkflowSyntaxError)) throw error;
        issues = relocateIssues(dir, error.issues);
      }
      if (json) {
        printJson(cli, {
          ...(notes.length > 0 ? { notes } : {}),
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
        printLine(cli, issues.length === 0 ? [summary, ...notes].join("\n") : formatIssues(issues));
      }
      cli.exitCode = issues.length === 0 ? ExitCode.Ok : ExitCode.Failed;
    });
}
