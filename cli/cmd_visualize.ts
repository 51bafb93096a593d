/**
 * `pipedreamer visualize [dir] [--format mermaid|dot]`: the DAG as a diagram on stdout.
 *
 * @module
 */

import { type Command, Option } from "commander";
import { GraphFormat, renderGraph } from "../engine/mod.ts";
import { type CliContext, ExitCode, loadWorkflowOrReport, printLine } from "./_output.ts";

/** Registers `visualize`. */
export function registerVisualize(program: Command, cli: CliContext): void {
  program
    .command("visualize")
    .description("print the DAG as a Mermaid flowchart (or Graphviz dot)")
    .argument("[dir]", "workflow directory", ".")
    .addOption(
      new Option("--format <format>", "diagram format")
        .choices(Object.values(GraphFormat))
        .default(GraphFormat.Mermaid),
    )
    .action(async (dir: string, opts: { format: GraphFormat }) => {
      const workflow = await loadWorkflowOrReport(cli, dir);
      if (!workflow) return;
      const text = renderGraph(workflow, { format: opts.format });
      printLine(cli, text.endsWith("\n") ? text.slice(0, -1) : text);
      cli.exitCode = ExitCode.Ok;
    });
}
