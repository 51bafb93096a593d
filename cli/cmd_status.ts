/**
 * `pipedreamer status <name> [--detail]`: ready replicas, deployed version and image of a
 * deployed workflow; pods and recent events when it is not ready (or with `--detail`).
 *
 * @module
 */

import type { Command } from "commander";
import type { CanaryStatus, EngineRunCounts, WorkflowStatus } from "../k8s/mod.ts";
import { forEachContext, kubeClients, namespaceFor } from "./_k8s.ts";
import { table } from "./_table.ts";
import { formatAge } from "./_time.ts";
import { type CliContext, ExitCode, globalOptions, printJson, printLine } from "./_output.ts";

/** Registers `status`. */
export function registerStatus(program: Command, cli: CliContext): void {
  program
    .command("status")
    .description("show a deployed workflow: version, image, ready replicas; events when failing")
    .argument("<name>", "workflow name")
    .option("--detail", "always show pods and recent events")
    .option("--all-contexts", "every context of the kubeconfig")
    .action(
      async (
        name: string,
        flags: { detail?: boolean; allContexts?: boolean },
        command: Command,
      ) => {
        const globals = globalOptions(command);
        const { canaryStatus, workflowStatus } = await import("../k8s/mod.ts");
        const clients = await kubeClients(command, { allContexts: flags.allContexts });
        const results = await forEachContext(
          cli,
          clients,
          async (client): Promise<WorkflowStatus & { canary?: CanaryStatus }> => {
            const namespace = namespaceFor(command, client);
            const status = await workflowStatus(client, name, namespace, { detail: flags.detail });
            const canary = await canaryStatus(client, name, namespace);
            return canary ? { ...status, canary } : status;
          },
        );
        if (globals.output === "json") {
          printJson(cli, clients.length > 1 || flags.allContexts ? results : results[0]);
        } else {
          for (const status of results) {
            for (
              const line of formatStatus(status, clients.length > 1)
            ) printLine(cli, line);
          }
        }
        if (results.some((s) => !s.ready || s.canary?.ready === false)) {
          cli.exitCode = ExitCode.Failed;
        }
      },
    );
}

/** "12 runs, 1 failed (8.3%)" */
function formatCounts(c: EngineRunCounts | { error: string } | undefined): string {
  if (c === undefined) return "unknown";
  if ("error" in c) return `unknown (${c.error})`;
  const rate = c.failureRate === null ? "" : ` (${(c.failureRate * 100).toFixed(1)}%)`;
  return `${c.total} finished, ${c.failed} failed${rate}`;
}

/** The canary block of `status`: both versions, their share and run counts. */
function formatCanary(s: WorkflowStatus, c: CanaryStatus): string[] {
  const lines = [
    `  canary:    ${c.version} ${
      c.percent === undefined ? "gets no runs (switch not set)" : `gets ${c.percent}% of new runs`
    }, ready ${c.replicas.ready}/${c.replicas.desired}${c.ready ? "" : "  NOT READY"}`,
    `  canary image: ${c.image}`,
  ];
  if (c.routed) {
    lines.push(
      `  new runs since the canary started: live ${c.routed.live}, canary ${c.routed.canary}`,
    );
  }
  lines.push(
    ...table(["VERSION", "TRACK", "RUNS (since its engine started)"], [
      [s.version, "live", formatCounts(c.runs?.live)],
      [c.version, "canary", formatCounts(c.runs?.canary)],
    ]).map((l) => `    ${l}`),
  );
  if (c.error) lines.push(`  note: ${c.error}`);
  return lines;
}

function formatStatus(
  s: WorkflowStatus & { canary?: CanaryStatus },
  showContext: boolean,
): string[] {
  const r = s.replicas;
  const lines = [
    `${s.name} ${s.version}${showContext ? ` (context ${s.context})` : ""}`,
    `  namespace: ${s.namespace}`,
    `  image:     ${s.image}`,
    `  ready:     ${r.ready}/${r.desired} (${r.updated} updated, ${r.available} available)${
      s.ready ? "" : "  NOT READY"
    }`,
    `  age:       ${formatAge(s.createdAt)}`,
  ];
  if (s.canary) lines.push(...formatCanary(s, s.canary));
  if (s.pods && s.pods.length > 0) {
    lines.push("  pods:");
    lines.push(
      ...table(
        ["NAME", "PHASE", "READY", "RESTARTS", "WAITING"],
        s.pods.map((
          p,
        ) => [p.name, p.phase, p.ready ? "yes" : "no", String(p.restarts), p.waiting ?? ""]),
      ).map((l) => `    ${l}`),
    );
  }
  if (s.events && s.events.length > 0) {
    lines.push("  events:");
    for (const e of s.events) lines.push(`    ${e.type} ${e.reason} ${e.object}: ${e.message}`);
  }
  return lines;
}
