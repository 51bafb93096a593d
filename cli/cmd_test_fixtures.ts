/**
 * `pipedreamer test [dir][/<node>] [--pipeline] [--live]`: runs the fixtures of SPEC §8.
 *
 * @module
 */

import { nodesCompile } from "./_compile_check.ts";
import type { Command } from "commander";
import { join } from "node:path";
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
import { readRun, type RunSourceFlags, withRunSource, writeFixturesFromRun } from "./_from_run.ts";

interface TestOptions extends RunSourceFlags {
  pipeline?: boolean;
  live?: boolean;
  fromRun?: string;
  node?: string;
  force?: boolean;
}

/** Registers `test`. */
export function registerTest(program: Command, cli: CliContext): void {
  const test = program
    .command("test")
    .description("run node fixtures (tests/fixtures) then pipeline fixtures (tests/pipeline)")
    .argument("[target]", "workflow directory, or <dir>/<node> for one node's fixtures", ".")
    .option("--pipeline", "run only the pipeline fixtures")
    .option("--live", "use the real network and cluster instead of the fixtures' mocks")
    .option(
      "--from-run <id>",
      "write fixtures from a stored run (input, config overlay, output as expected; no secrets)",
    )
    .option("--node <node>", "with --from-run: only this node's fixture")
    .option("--force", "with --from-run: replace fixture files that exist");
  withRunSource(test, "<dir>/.pipedreamer")
    .action(async (arg: string, opts: TestOptions, command: Command) => {
      const globals = globalOptions(command);
      const target = await resolveWorkflowTarget(arg);
      if (opts.fromRun === undefined) {
        const stray = ["node", "force", "url", "token", "data", "store"].find((k) =>
          opts[k as keyof TestOptions] !== undefined
        );
        if (stray) usageError(command, `Cannot use --${stray} without --from-run`);
      } else {
        if (opts.pipeline || opts.live) {
          usageError(command, "Cannot combine --from-run with --pipeline or --live");
        }
        const workflow = await loadWorkflowOrReport(cli, target.dir);
        if (!workflow) return;
        const record = await readRun(
          command,
          opts,
          opts.fromRun,
          join(target.dir, ".pipedreamer"),
        );
        const written = await writeFixturesFromRun(
          workflow,
          record,
          opts.node ?? target.node,
          opts.force === true,
        );
        if (globals.output === "json") {
          printJson(cli, { runId: record.runId, fixtures: written });
        } else {
          for (const fixture of written) {
            printLine(cli, `wrote ${fixture.file}`);
            for (const note of fixture.notes) printError(cli, `note: ${note}`);
          }
          printLine(cli, `run them with: pipedreamer test ${target.dir}`);
        }
        cli.exitCode = ExitCode.Ok;
        return;
      }
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
