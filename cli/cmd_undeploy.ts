/**
 * `pipedreamer undeploy <name> [--yes]`: deletes everything deploy created for a workflow
 * (every version's code, cron Jobs, RBAC), leaving nothing orphaned.
 *
 * @module
 */

import type { Command } from "commander";
import { kubeClient, namespaceFor } from "./_k8s.ts";
import {
  type CliContext,
  CliFailure,
  globalOptions,
  printError,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";

/** Registers `undeploy`. */
export function registerUndeploy(program: Command, cli: CliContext): void {
  program
    .command("undeploy")
    .description("delete a deployed workflow and everything deploy created for it")
    .argument("<name>", "workflow name")
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (name: string, flags: { yes?: boolean }, command: Command) => {
      const globals = globalOptions(command);
      const { undeployWorkflow } = await import("../k8s/mod.ts");
      const client = await kubeClient(command);
      const namespace = namespaceFor(command, client);
      if (!flags.yes) {
        if (!Deno.stdin.isTerminal()) {
          usageError(command, `Cannot undeploy "${name}" without confirmation: pass --yes`);
        }
        const answer = prompt(
          `Delete "${name}" and everything deployed for it from namespace "${namespace}" (context "${client.context}")? [y/N]`,
        );
        if (!/^y(es)?$/i.test(answer?.trim() ?? "")) throw new CliFailure("Undeploy cancelled");
      }
      const result = await undeployWorkflow(client, name, namespace);
      if (globals.output === "json") {
        printJson(cli, result);
        return;
      }
      for (const d of result.deleted) printError(cli, `  deleted ${d}`);
      printLine(
        cli,
        `✓ ${name} undeployed from ${namespace} (${result.deleted.length} objects deleted)`,
      );
    });
}
