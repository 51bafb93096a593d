/**
 * `pipedreamer promote <name>`: makes a running canary (`deploy --canary`) the live version
 * and ends the canary.
 *
 * @module
 */

import type { Command } from "commander";
import { kubeClient, namespaceFor } from "./_k8s.ts";
import { readTimeout } from "./_time.ts";
import { type CliContext, globalOptions, printError, printJson, printLine } from "./_output.ts";

/** Registers `promote`. */
export function registerPromote(program: Command, cli: CliContext): void {
  program
    .command("promote")
    .description("make the running canary the live version and end the canary")
    .argument("<name>", "workflow name")
    .option("--timeout <duration>", "how long to wait for each step (drain, rollout)", "5m")
    .option("--no-wait", "do not wait for the live engine, the canary's runs or the rollout")
    .addHelpText(
      "after",
      "\nThe live engine stops forwarding, the canary finishes its runs, the live Deployment (and\n" +
        "cron Jobs, policies, secrets) get the canary version's manifests as `deploy` of that\n" +
        "version applies them, then the canary's objects are deleted.",
    )
    .action(async (name: string, flags: { timeout: string; wait: boolean }, command: Command) => {
      const globals = globalOptions(command);
      const timeoutMs = readTimeout(command, flags.timeout);
      const { promoteCanary } = await import("../k8s/mod.ts");
      const client = await kubeClient(command);
      const say = (m: string) => printError(cli, `  ${m}`);
      const result = await promoteCanary(client, name, namespaceFor(command, client), {
        wait: flags.wait,
        onProgress: say,
        rollout: { timeoutMs, onProgress: (m) => say(`rollout: ${m}`) },
      });
      if (globals.output === "json") printJson(cli, result);
      else {printLine(
          cli,
          `✓ ${name} promoted: ${result.to} is live (was ${result.from}), canary ended`,
        );}
    });
}
