/**
 * What the cluster commands share: picking the kube contexts (`--context` repeated,
 * `--all-contexts`), running one operation per context, reading `--input` and `--timeout`,
 * and formatting tables and ages.
 *
 * @module
 */

import type { Command } from "commander";
import { parseDuration } from "../engine/mod.ts";
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

/** Parses a `--timeout` value (`30s`, `5m`); a bad one is a usage error. */
export function readTimeout(command: Command, value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    return usageError(command, `Cannot use --timeout "${value}": ${(error as Error).message}`);
  }
}

/** Parses `--input`: JSON text, or `@path` to read JSON from a file. Bad input exits 2. */
export async function readJsonInput(command: Command, value: string): Promise<unknown> {
  let text = value;
  let source = "--input";
  if (value.startsWith("@")) {
    source = `--input file "${value.slice(1)}"`;
    try {
      text = await Deno.readTextFile(value.slice(1));
    } catch (error) {
      usageError(command, `Cannot read ${source}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    return usageError(
      command,
      `Cannot parse ${source} as JSON: ${
        (error as Error).message
      }; pass e.g. --input '{"name":"Ada"}' or --input @input.json`,
    );
  }
}

/** Left-aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i]!)).join("  ");
  return [line(header), ...rows.map(line)];
}

/** Age like kubectl: `45s`, `12m`, `3h`, `5d`. */
export function formatAge(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return "-";
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** True when the global `-o` asks for JSON. */
export function wantsJson(globals: GlobalOptions): boolean {
  return globals.output === "json";
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
