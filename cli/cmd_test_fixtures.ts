/**
 * `pipedreamer test [dir][/<node>] [--pipeline] [--live]`: runs the fixtures of SPEC §8.
 *
 * @module
 */

import { nodesCompile } from "./_compile_check.ts";
import type { Command } from "commander";
import { type FixtureResult, runFixtures } from "../engine/mod.ts";
import { nodeK8sAccess } from "./_node_k8s.ts";
import {
  type CliContext,
  CliFailure,
  ExitCode,
  formatElapsed,
  globalOptions,
  loadWorkflowOrReport,
  printError,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";
import { formatLogLine } from "./_progress.ts";
import { resolveWorkflowTarget } from "./_workflow_target.ts";

interface TestOptions {
  pipeline?: boolean;
  live?: boolean;
}

/** Registers `test`. */
export function registerTest(program: Command, cli: CliContext): void {
  program
    .command("test")
    .description("run node fixtures (tests/fixtures) then pipeline fixtures (tests/pipeline)")
    .argument("[target]", "workflow directory, or <dir>/<node> for one node's fixtures", ".")
    .option("--pipeline", "run only the pipeline fixtures")
    .option("--live", "use the real network and cluster instead of the fixtures' mocks")
    .action(async (arg: string, opts: TestOptions, command: Command) => {
      const globals = globalOptions(command);
      const target = await resolveWorkflowTarget(arg);
      if (target.node !== undefined && opts.pipeline) {
        usageError(command, `Cannot combine a node ("${target.node}") with --pipeline`);
      }
      const workflow = await loadWorkflowOrReport(cli, target.dir);
      if (!workflow) return;
      const nodes = [...workflow.order, ...(workflow.onError ? [workflow.onError.id] : [])];
      if (target.node !== undefined && !nodes.includes(target.node)) {
        usageError(
          command,
          `Cannot test node "${target.node}": workflow "${workflow.name}" has no such node; ` +
            `nodes: ${nodes.join(", ")}`,
        );
      }
      const json = globals.output === "json";
      const only = target.node === undefined ? undefined : [target.node];
      if (!(await nodesCompile(cli, workflow, target.dir, { json, nodes: only }))) return;
      // ctx.k8s: the fixture's "k8s" list (or with --live the kubeconfig), within the node's rules.
      const k8s = nodeK8sAccess(command);
      const { createK8sMock } = await import("../k8s/mod.ts");
      const report = await runFixtures(workflow, {
        node: target.node,
        pipelineOnly: opts.pipeline === true,
        live: opts.live === true,
        k8sMock: createK8sMock,
        k8s: (node, mock) => k8s(node, mock),
        onResult: json ? undefined : (result) => printResult(cli, result),
        onLog: globals.verbose ? (line) => printError(cli, formatLogLine(line)) : undefined,
      });
      if (json) {
        printJson(cli, report);
      } else {
        printLine(cli, `${report.passed} passed, ${report.failed} failed`);
      }
      if (report.results.length === 0) {
        throw new CliFailure(
          target.node === undefined
            ? `Cannot test "${workflow.name}": no fixtures in tests/fixtures or tests/pipeline`
            : `Cannot test node "${target.node}": no tests/fixtures/${target.node}.json`,
        );
      }
      cli.exitCode = report.failed > 0 ? ExitCode.Failed : ExitCode.Ok;
    });
}

function printResult(cli: CliContext, result: FixtureResult): void {
  const mark = result.passed ? "✓" : "✗";
  printLine(cli, `${mark} ${result.name} (${formatElapsed(result.durationMs)})`);
  if (result.failure) printLine(cli, `    ${result.failure}`);
  if (result.diff) {
    for (const line of result.diff.split("\n")) printLine(cli, `    ${line}`);
  }
}
