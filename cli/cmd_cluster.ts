/**
 * `pipedreamer cluster check [--fix]`: can this kubeconfig deploy and operate workflows?
 * Each failed check prints how to fix it; `--fix` creates what is safe (the namespace).
 *
 * @module
 */

import type { Command } from "commander";
import { forEachContext, kubeClients, namespaceFor } from "./_k8s.ts";
import { type CliContext, ExitCode, globalOptions, printJson, printLine } from "./_output.ts";

/** Registers `cluster` and its `check` subcommand. */
export function registerCluster(program: Command, cli: CliContext): void {
  const cluster = program
    .command("cluster")
    .description("check the cluster for deploying workflows");
  cluster
    .command("check")
    .description("API reachable, namespace, gVisor RuntimeClass, permissions; each with a fix hint")
    .option("--fix", "create what is safe to create (the namespace)")
    .option("--runtime-class <name>", 'RuntimeClass to look for; "" skips the check', "gvisor")
    .option("--all-contexts", "every context of the kubeconfig")
    .action(
      async (
        flags: { fix?: boolean; runtimeClass: string; allContexts?: boolean },
        command: Command,
      ) => {
        const globals = globalOptions(command);
        const { checkCluster } = await import("../k8s/mod.ts");
        const clients = await kubeClients(command, { allContexts: flags.allContexts });
        const reports = await forEachContext(cli, clients, async (client) => ({
          context: client.context,
          namespace: namespaceFor(command, client),
          checks: await checkCluster(client, namespaceFor(command, client), {
            fix: flags.fix,
            runtimeClass: flags.runtimeClass,
          }),
        }));
        const ok = reports.every((r) => r.checks.every((c) => c.ok));
        if (globals.output === "json") {
          printJson(
            cli,
            clients.length > 1 || flags.allContexts
              ? reports.map((r) => ({ ...r, ok: r.checks.every((c) => c.ok) }))
              : { ...reports[0], ok },
          );
        } else {
          for (const report of reports) {
            printLine(cli, `context ${report.context}, namespace ${report.namespace}:`);
            for (const c of report.checks) {
              printLine(
                cli,
                `  ${c.ok ? "✓" : "✗"} ${c.name}: ${c.detail}${c.fixed ? " (fixed)" : ""}`,
              );
              if (!c.ok && c.hint) printLine(cli, `      fix: ${c.hint}`);
            }
          }
        }
        if (!ok) cli.exitCode = ExitCode.Failed;
      },
    );
}
