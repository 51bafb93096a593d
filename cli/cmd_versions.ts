/**
 * `pipedreamer versions <name> [--diff a b]`: the versions of a workflow still in the
 * cluster (one immutable code ConfigMap each), the live one marked; `--diff` shows what
 * changed between two of them.
 *
 * @module
 */

import type { Command } from "commander";
import { kubeClient, namespaceFor } from "./_k8s.ts";
import { table } from "./_table.ts";
import { formatAge } from "./_time.ts";
import { type CliContext, globalOptions, printJson, printLine, usageError } from "./_output.ts";

/** Registers `versions`. */
export function registerVersions(program: Command, cli: CliContext): void {
  program
    .command("versions")
    .description("list the deployed versions of a workflow, or diff two of them")
    .argument("<name>", "workflow name")
    .option(
      "--diff <versions...>",
      "show the code changes between two versions: --diff 1.0.0 1.1.0",
    )
    .action(async (name: string, flags: { diff?: string[] }, command: Command) => {
      const globals = globalOptions(command);
      const { diffVersions, listVersions } = await import("../k8s/mod.ts");
      const client = await kubeClient(command);
      if (flags.diff) {
        if (flags.diff.length !== 2) {
          usageError(command, `Cannot diff: --diff takes two versions, got ${flags.diff.length}`);
        }
        const [a, b] = flags.diff as [string, string];
        const files = await diffVersions(client, name, namespaceFor(command, client), a, b);
        if (globals.output === "json") printJson(cli, { name, from: a, to: b, files });
        else if (files.length === 0) printLine(cli, `No code changes between ${a} and ${b}`);
        else for (const f of files) printLine(cli, f.diff);
        return;
      }
      const versions = await listVersions(client, name, namespaceFor(command, client));
      if (globals.output === "json") {
        printJson(cli, versions);
        return;
      }
      const rows = versions.map((
        v,
      ) => [
        v.current ? "*" : "",
        v.version,
        v.codeHash.slice(0, 12),
        formatAge(v.createdAt),
        v.image,
      ]);
      for (const line of table(["", "VERSION", "CODE", "AGE", "IMAGE"], rows)) printLine(cli, line);
    });
}
