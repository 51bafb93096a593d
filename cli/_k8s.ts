/**
 * What the cluster commands share: picking the kube contexts (`--context` repeated,
 * `--all-contexts`) and running one operation per context.
 *
 * @module
 */

import type { Command } from "commander";
import type { KubeClient } from "../k8s/mod.ts";
import {
  type CliContext,
  ExitCode,
  type GlobalOptions,
  globalOptions,
  printError,
  usageError,
} from "./_output.ts";

/**
 * The clients of every context a command operates on. k8s/ (with @kubernetes/client-node, a
 * quarter of a second and ~65 MiB) is loaded here, on first use, never at start-up.
 */
export async function kubeClients(
  command: Command,
  options: { allContexts?: boolean } = {},
): Promise<KubeClient[]> {
  const { kubeContexts, loadKubeClient } = await import("../k8s/mod.ts");
  const globals = globalOptions(command);
  if (options.allContexts && globals.context.length > 0) {
    usageError(command, "Cannot combine --context with --all-contexts: pick one");
  }
  const contexts: (string | undefined)[] = options.allContexts
    ? kubeContexts()
    : globals.context.length > 0
    ? [...new Set(globals.context)]
    : [undefined];
  if (contexts.length === 0) {
    usageError(command, "Cannot use --all-contexts: the kubeconfig has no contexts");
  }
  return contexts.map((context) => loadKubeClient({ context }));
}

/** The one client of a command that operates on a single cluster (loads k8s/ on first use). */
export async function kubeClient(command: Command): Promise<KubeClient> {
  const { loadKubeClient } = await import("../k8s/mod.ts");
  const globals = globalOptions(command);
  if (globals.context.length > 1) {
    usageError(
      command,
      `Cannot use ${globals.context.length} contexts here: this command takes one --context`,
    );
  }
  return loadKubeClient({ context: globals.context[0] });
}

/**
 * Runs `operation` on every client, prefixing errors with the context when there are several.
 * Sets exit 1 when any failed; returns the successful results.
 */
export async function forEachContext<T>(
  cli: CliContext,
  clients: KubeClient[],
  operation: (client: KubeClient) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  let failed = false;
  for (const client of clients) {
    try {
      results.push(await operation(client));
    } catch (error) {
      if (clients.length === 1) throw error;
      failed = true;
      printError(
        cli,
        `Error: [${client.context}] ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (failed) cli.exitCode = ExitCode.Failed;
  return results;
}

/**
 * The namespace a cluster command works in: `-n` when given, else the kubeconfig context's
 * namespace (as kubectl does), else "default".
 */
export function namespaceFor(
  command: Command,
  client: KubeClient,
  globals: GlobalOptions = globalOptions(command),
): string {
  const given = command.getOptionValueSourceWithGlobals("namespace") !== "default";
  return given ? globals.namespace : client.defaultNamespace;
}
