/**
 * `pipedreamer rollback <name> --version v`: runs an earlier deployed version again (its
 * code ConfigMap and image); fails fast when that version is gone.
 *
 * @module
 */

import type { Command } from "commander";
import { kubeClient, namespaceFor } from "./_k8s.ts";
import { readTimeout } from "./_time.ts";
import { type CliContext, globalOptions, printError, printJson, printLine } from "./_output.ts";

/** Registers `rollback`. */
export function registerRollback(program: Command, cli: CliContext): void {
  program
    .command("rollback")
    .description("switch a deployed workflow back to an earlier version")
    .argument("<name>", "workflow name")
    .requiredOption("--version <version>", "the version to run (see `versions <name>`)")
    .option("--timeout <duration>", "how long to wait for the rollout", "5m")
    .option("--no-wait", "return once patched, without waiting for the rollout")
    .action(
      async (
        name: string,
        flags: { version: string; timeout: string; wait: boolean },
        command: Command,
      ) => {
        const globals = globalOptions(command);
        const timeoutMs = readTimeout(command, flags.timeout);
        const { rollbackWorkflow } = await import("../k8s/mod.ts");
        const client = await kubeClient(command);
        const result = await rollbackWorkflow(
          client,
          name,
          namespaceFor(command, client),
          flags.version,
          {
            wait: flags.wait,
            rollout: { timeoutMs, onProgress: (m) => printError(cli, `  rollout: ${m}`) },
          },
        );
        if (globals.output === "json") printJson(cli, result);
        else printLine(cli, `✓ ${name} rolled back from ${result.from} to ${result.to}`);
      },
    );
}
