/**
 * `pipedreamer list`: the workflows deployed in a namespace (or every namespace with `-A`):
 * name, version, ready replicas and age.
 *
 * @module
 */

import type { Command } from "commander";
import { forEachContext, kubeClients, namespaceFor } from "./_k8s.ts";
import { table } from "./_table.ts";
import { formatAge } from "./_time.ts";
import { type CliContext, globalOptions, printJson, printLine } from "./_output.ts";

/** Registers `list`. */
export function registerList(program: Command, cli: CliContext): void {
  program
    .command("list")
    .description("list deployed workflows: name, version, ready, age")
    .option("-A, --all-namespaces", "every namespace")
    .option("--all-contexts", "every context of the kubeconfig")
    .action(async (flags: { allNamespaces?: boolean; allContexts?: boolean }, command: Command) => {
      const globals = globalOptions(command);
      const { listWorkflows } = await import("../k8s/mod.ts");
      const clients = await kubeClients(command, { allContexts: flags.allContexts });
      const nsOf = (client: (typeof clients)[number]) =>
        flags.allNamespaces ? undefined : namespaceFor(command, client);
      const namespace = clients.length > 0 ? nsOf(clients[0]!) : undefined;
      const rows = (await forEachContext(cli, clients, (client) =>
        listWorkflows(client, nsOf(client)))).flat();
      if (globals.output === "json") {
        printJson(cli, rows);
        return;
      }
      if (rows.length === 0) {
        printLine(
          cli,
          `No workflows deployed in ${namespace ? `namespace "${namespace}"` : "any namespace"}`,
        );
        return;
      }
      const multi = clients.length > 1;
      const header = [
        ...(multi ? ["CONTEXT"] : []),
        ...(namespace ? [] : ["NAMESPACE"]),
        "NAME",
        "VERSION",
        "READY",
        "AGE",
      ];
      const body = rows.map((w) => [
        ...(multi ? [w.context] : []),
        ...(namespace ? [] : [w.namespace]),
        w.name,
        w.version,
        `${w.replicas.ready}/${w.replicas.desired}`,
        formatAge(w.createdAt),
      ]);
      for (const line of table(header, body)) {
        printLine(cli, line);
      }
    });
}
