/**
 * `pipedreamer run <name> [--input JSON|@file] [--timeout 5m]`: runs a deployed workflow
 * through the API server's service proxy (no kubectl, no port-forward) and prints the run
 * record's result (`-o json`: the whole record). In the cluster the cron Jobs use `--url`.
 *
 * @module
 */

import { type Command, Option } from "commander";
import type { RunResult } from "../k8s/mod.ts";
import { kubeClient, namespaceFor } from "./_k8s.ts";
import { readJsonInput } from "./_input.ts";
import { readTimeout } from "./_time.ts";
import {
  type CliContext,
  ExitCode,
  globalOptions,
  printError,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";

interface RunFlags {
  input: string;
  timeout: string;
  async?: boolean;
  idempotencyKey?: string;
  url?: string;
  tokenFile?: string;
  trigger?: string;
}

/** Registers `run`. */
export function registerRunDeployed(program: Command, cli: CliContext): void {
  program
    .command("run")
    .description(
      "run a deployed workflow through the Kubernetes API (service proxy) and print the result",
    )
    .argument("<name>", "workflow name")
    .option("--input <json>", "run input as JSON, or @file to read it from a file", "{}")
    .option("--timeout <duration>", "how long to wait for the run; 0 waits forever", "5m")
    .option("--async", "start the run and print its id without waiting")
    .option("--url <url>", "call the engine at this URL instead (inside the cluster)")
    .option("--token-file <file>", "engine API token for --url")
    .option(
      "--idempotency-key <key>",
      "a repeated request with the same key attaches to the same run (cron Job retries)",
    )
    .addOption(
      new Option(
        "--trigger <trigger>",
        "the trigger the run records (the CronJobs send cron: a canary never gets those runs)",
      ).choices(["manual", "cron"]),
    )
    .action(async (name: string, flags: RunFlags, command: Command) => {
      const globals = globalOptions(command);
      const input = await readJsonInput(command, flags.input);
      const timeoutMs = flags.timeout === "0" ? 0 : readTimeout(command, flags.timeout);
      const options = {
        input,
        timeoutMs,
        async: flags.async,
        idempotencyKey: flags.idempotencyKey,
        trigger: flags.trigger,
      };
      const { runAtUrl, runDeployed } = await import("../k8s/mod.ts");
      let result: RunResult;
      if (flags.url) {
        if (!flags.tokenFile) usageError(command, "Cannot use --url without --token-file");
        const token = (await Deno.readTextFile(flags.tokenFile)).trim();
        result = await runAtUrl(name, flags.url, token, options);
      } else {
        const client = await kubeClient(command);
        result = await runDeployed(client, name, namespaceFor(command, client), options);
      }
      if ("runId" in result) {
        if (globals.output === "json") printJson(cli, result);
        else printLine(cli, result.runId);
        printError(cli, `Run ${result.runId} started`);
        return;
      }
      const record = result.record;
      if (globals.output === "json") printJson(cli, record);
      if (record.status === "succeeded") {
        if (globals.output !== "json") {
          printLine(cli, JSON.stringify(record.result, null, 2) ?? "null");
        }
        printError(cli, `Run ${record.runId} succeeded in ${record.durationMs ?? 0}ms`);
        return;
      }
      printError(
        cli,
        record.error
          ? `Run ${record.runId} failed: node "${record.error.node}": ${record.error.message}`
          : `Run ${record.runId} ${record.status}`,
      );
      cli.exitCode = ExitCode.Failed;
    });
}
