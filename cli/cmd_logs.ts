/**
 * `pipedreamer logs <name> [-f] [--tail N]`: the engine logs of every pod of a deployed
 * workflow, each line prefixed with `[pod]`.
 *
 * @module
 */

import type { Command } from "commander";
import { kubeClient, namespaceFor } from "./_k8s.ts";
import { type CliContext, globalOptions, printError, printLine, usageError } from "./_output.ts";

/** Registers `logs`. */
export function registerLogs(program: Command, cli: CliContext): void {
  program
    .command("logs")
    .description("print the logs of every pod of a deployed workflow, prefixed with the pod")
    .argument("<name>", "workflow name")
    .option("-f, --follow", "keep streaming new lines (Ctrl-C stops)")
    .option("--tail <n>", "only the last n lines of each pod")
    .action(async (name: string, flags: { follow?: boolean; tail?: string }, command: Command) => {
      const globals = globalOptions(command);
      const tailLines = flags.tail === undefined ? undefined : Number(flags.tail);
      if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) {
        usageError(command, `Cannot use --tail "${flags.tail}": expected a non-negative integer`);
      }
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      if (flags.follow) Deno.addSignalListener("SIGINT", onSigint);
      try {
        const { streamLogs } = await import("../k8s/mod.ts");
        const client = await kubeClient(command);
        await streamLogs(client, name, namespaceFor(command, client), {
          follow: flags.follow,
          tailLines,
          signal: controller.signal,
          onLine: (pod, line) =>
            globals.output === "json"
              ? printLine(cli, JSON.stringify({ pod, line }))
              : printLine(cli, `[${pod}] ${line}`),
          onNotice: (pod, message) => printError(cli, `[${pod}] ${message}`),
        });
      } finally {
        if (flags.follow) Deno.removeSignalListener("SIGINT", onSigint);
      }
    });
}
