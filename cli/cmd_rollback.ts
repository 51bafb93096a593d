/**
 * `pipedreamer rollback <name> --version v`: runs an earlier deployed version again (its
 * code ConfigMap and image); fails fast when that version is gone. Without `--version`, during
 * a canary release: ends the canary (the live version is unchanged).
 *
 * @module
 */

import type { Command } from "commander";
import { kubeClient, namespaceFor } from "./_k8s.ts";
import { readTimeout } from "./_time.ts";
import {
  type CliContext,
  CliFailure,
  globalOptions,
  printError,
  printJson,
  printLine,
} from "./_output.ts";

/** Registers `rollback`. */
export function registerRollback(program: Command, cli: CliContext): void {
  program
    .command("rollback")
    .description("switch a deployed workflow back to an earlier version, or end its canary")
    .argument("<name>", "workflow name")
    .option(
      "--version <version>",
      "the version to run (see `versions <name>`); without it, end the running canary",
    )
    .option("--timeout <duration>", "how long to wait for the rollout", "5m")
    .option("--no-wait", "return once patched, without waiting for the rollout")
    .action(
      async (
        name: string,
        flags: { version?: string; timeout: string; wait: boolean },
        command: Command,
      ) => {
        const globals = globalOptions(command);
        const timeoutMs = readTimeout(command, flags.timeout);
        const { rollbackCanary, rollbackWorkflow, runningCanary } = await import("../k8s/mod.ts");
        const client = await kubeClient(command);
        const namespace = namespaceFor(command, client);
        const rollout = {
          timeoutMs,
          onProgress: (m: string) => printError(cli, `  rollout: ${m}`),
        };
        if (flags.version === undefined) {
          const ended = await rollbackCanary(client, name, namespace, {
            wait: flags.wait,
            rollout,
            onProgress: (m) => printError(cli, `  ${m}`),
          });
          if (globals.output === "json") printJson(cli, ended);
          else printLine(cli, `✓ canary of ${name} ended; ${ended.to} stays live`);
          return;
        }
        const canary = await runningCanary(client, name, namespace);
        if (canary) {
          throw new CliFailure(
            `Cannot roll "${name}" back to ${flags.version}: a canary is running; ` +
              `end it first with \`pipedreamer rollback ${name}\` (without --version)`,
          );
        }
        const result = await rollbackWorkflow(client, name, namespace, flags.version, {
          wait: flags.wait,
          rollout,
        });
        if (globals.output === "json") printJson(cli, result);
        else printLine(cli, `✓ ${name} rolled back from ${result.from} to ${result.to}`);
      },
    );
}
