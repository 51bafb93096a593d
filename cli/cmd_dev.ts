/**
 * `pipedreamer dev [dir]`: the HTTP engine on 127.0.0.1, without auth, with its SQLite store in
 * `<dir>/.pipedreamer`, reloading the workflow when its files change.
 *
 * @module
 */

import type { Command } from "commander";
import type { CompiledNode } from "../engine/mod.ts";
import { type CliContext, globalOptions } from "./_output.ts";
import { intFlag } from "./_flags.ts";
import { nodeK8sAccess } from "./_node_k8s.ts";

/** Registers `dev`. */
export function registerDev(program: Command, cli: CliContext): void {
  program
    .command("dev")
    .description(
      "run the HTTP API on 127.0.0.1 without auth; reloads on changes to workflow.yaml or nodes/",
    )
    .argument("[dir]", "workflow directory", ".")
    .option("--port <port>", "TCP port (0 picks a free one)", "8080")
    .option("--nats-url <url>", "NATS for queue triggers and /hooks/ (default env NATS_URL)")
    .action(async (dir: string, opts: { port: string; natsUrl?: string }, command: Command) => {
      const port = intFlag(command, "--port", opts.port, 0, 65_535);
      (await import("./_tracing_env.ts")).checkTracingEnv(command);
      const { serveUntilSignal } = await import("./_serve_process.ts");
      const nodeK8s = nodeK8sAccess(command);
      const k8s = (node: CompiledNode) => nodeK8s(node);
      await serveUntilSignal(cli, {
        dir,
        port,
        dev: true,
        natsUrl: opts.natsUrl ?? Deno.env.get("NATS_URL"),
        // Ctrl-C in dev stops at once: running runs are cancelled and kept in the store.
        graceMs: 0,
        // ctx.k8s for nodes with capabilities.k8s: the local kubeconfig (--context, -n).
        k8s,
      }, globalOptions(command).verbose);
    });
}
