/**
 * `pipedreamer status <name> [--detail]`: ready replicas, deployed version and image of a
 * deployed workflow; pods and recent events when it is not ready (or with `--detail`).
 *
 * @module
 */

import type { Command } from "commander";
import type { WorkflowStatus } from "../k8s/mod.ts";
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
        const { workflowStatus } = await import("../k8s/mod.ts");
        const clients = await kubeClients(command, { allContexts: flags.allContexts });
        const results = await forEachContext(
          cli,
          clients,
          (client) =>
            workflowStatus(client, name, namespaceFor(command, client), { detail: flags.detail }),
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
        if (results.some((s) => !s.ready)) cli.exitCode = ExitCode.Failed;
      },
    );
}

function formatStatus(s: WorkflowStatus, showContext: boolean): string[] {
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
