/**
 * `pipedreamer exec [dir] [--input JSON|@file] [--target <node>] [--dry-run]`: runs the DAG
 * once, locally, with the sandboxed runner and the project's secrets.
 *
 * @module
 */

import { nodesCompile } from "./_compile_check.ts";
import type { Command } from "commander";
import {
  createRedactor,
  createRunner,
  type ExecuteHooks,
  executeRun,
  InputValidationError,
  loadSecrets,
  loadSubWorkflowSecrets,
  type RunRecord,
} from "../engine/mod.ts";
import {
  type CliContext,
  CliFailure,
  ExitCode,
  globalOptions,
  loadWorkflowOrReport,
  printError,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";
import { readJsonInput } from "./_input.ts";
import { nodeK8sAccess } from "./_node_k8s.ts";
import { buildPlan, formatPlan } from "./_plan.ts";
import { createNodeProgress, formatLogLine } from "./_progress.ts";

interface ExecOptions {
  input?: string;
  target?: string;
  dryRun?: boolean;
}

/** Registers `exec`. */
export function registerExec(program: Command, cli: CliContext): void {
  program
    .command("exec")
    .description("run the DAG once locally; the result goes to stdout, progress to stderr")
    .argument("[dir]", "workflow directory", ".")
    .option("--input <json>", "run input as JSON, or @file to read it from a file", "{}")
    .option("--target <node>", "run only this node and its ancestors")
    .option("--dry-run", "print the execution plan and run nothing")
    .action(async (dir: string, opts: ExecOptions, command: Command) => {
      const json = globalOptions(command).output === "json";
      (await import("./_tracing_env.ts")).checkTracingEnv(command);
      const input = await readJsonInput(command, opts.input ?? "{}");
      const workflow = await loadWorkflowOrReport(cli, dir);
      if (!workflow) return;
      if (opts.target !== undefined && !(opts.target in workflow.nodes)) {
        usageError(
          command,
          `Cannot target node "${opts.target}": workflow "${workflow.name}" has no such node; ` +
            `nodes: ${workflow.order.join(", ")}`,
        );
      }
      if (opts.dryRun) {
        const plan = buildPlan(workflow, { target: opts.target, input });
        if (json) printJson(cli, plan);
        else for (const line of formatPlan(plan)) printLine(cli, line);
        cli.exitCode = ExitCode.Ok;
        return;
      }

      const planned = buildPlan(workflow, { target: opts.target });
      const nodes = [...planned.steps, ...(planned.onError ? [planned.onError] : [])];
      if (!(await nodesCompile(cli, workflow, dir, { json, nodes: nodes.map((s) => s.node) }))) {
        return;
      }
      const secrets = await loadSecrets(workflow.dir);
      // Each sub-workflow runs with its own project's secrets, never this one's.
      const subWorkflowSecrets = await loadSubWorkflowSecrets(workflow);
      const redact = createRedactor([secrets, subWorkflowSecrets]);
      const runner = createRunner();
      const controller = new AbortController();
      // -o json keeps stderr machine-readable: every line is one JSON object.
      const status = (level: "info" | "error", text: string) =>
        printError(cli, json ? JSON.stringify({ level, msg: text }) : text);
      const onSigint = () => {
        status("info", "Cancelling the run (Ctrl-C)…");
        controller.abort(new DOMException("Run cancelled by SIGINT", "AbortError"));
      };
      Deno.addSignalListener("SIGINT", onSigint);
      const progress = createNodeProgress();
      // ctx.k8s for nodes with capabilities.k8s: the kubeconfig (--context) or the in-cluster
      // service account, within each node's rules, in -n (or the pod's own) namespace.
      const k8s = nodeK8sAccess(command);
      // Traces: only when an OTLP endpoint is configured (the SDK is loaded then only); the env
      // TRACEPARENT (as CI systems set it) becomes the run's parent.
      const tracing = await import("../tracing/mod.ts");
      const tracer = tracing.tracingConfigured()
        ? await tracing.loadRunTracer({ redact })
        : undefined;
      const runId = crypto.randomUUID();
      const traced = tracer?.trace(
        runId,
        Deno.env.get("TRACEPARENT")?.trim().toLowerCase(),
        workflow,
      );
      const hooks: ExecuteHooks = {
        onNodeUpdate: (_runId, nodeId, node) => {
          const line = progress(nodeId, node);
          if (line === undefined) return;
          if (!json) return printError(cli, line);
          printError(
            cli,
            JSON.stringify({ level: "info", msg: line, node: nodeId, status: node.status }),
          );
        },
        // -o json keeps stderr machine-readable too: one JSON log line each.
        onLog: (line) => printError(cli, json ? JSON.stringify(line) : formatLogLine(line)),
      };
      let record: RunRecord;
      try {
        record = await executeRun(workflow, {
          runId,
          input,
          runner,
          secrets,
          subWorkflowSecrets,
          redact,
          signal: controller.signal,
          target: opts.target,
          trigger: "manual",
          k8s: (node) => k8s(node),
          hooks: traced ? traced.hooks(hooks) : hooks,
          traceparent: traced?.traceparent,
        });
      } catch (error) {
        if (error instanceof InputValidationError) throw new CliFailure(error.message);
        throw error;
      } finally {
        Deno.removeSignalListener("SIGINT", onSigint);
        await runner.close();
        await tracer?.shutdown().catch((error) =>
          printError(cli, `warning: Cannot export the trace: ${redact(String(error))}`)
        );
      }

      if (json) printJson(cli, record);
      if (record.status === "succeeded") {
        if (!json) printLine(cli, JSON.stringify(record.result, null, 2) ?? "null");
        status("info", `Run ${record.runId} succeeded in ${record.durationMs ?? 0}ms`);
        cli.exitCode = ExitCode.Ok;
        return;
      }
      status(
        "error",
        record.status === "cancelled"
          ? `Run cancelled`
          : record.error
          ? `Run failed: node "${record.error.node}": ${record.error.message}`
          : `Run ${record.status}`,
      );
      cli.exitCode = ExitCode.Failed;
    });
}
