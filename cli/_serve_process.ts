/**
 * The process side of `dev` and `serve`: starts the server, prints what it does to stderr, and
 * turns SIGTERM/SIGINT into a graceful shutdown.
 *
 * @module
 */

import { WorkflowSyntaxError } from "../engine/mod.ts";
import { type ServerEvent, startServer, type StartServerOptions } from "../server/mod.ts";
import { commandSandboxNotice } from "./_command_sandbox_notice.ts";
import {
  type CliContext,
  ExitCode,
  formatElapsed,
  formatIssues,
  printError,
  relocateIssues,
} from "./_output.ts";

const SIGNALS: Deno.Signal[] = ["SIGTERM", "SIGINT"];

/** One event as the lines printed to stderr. */
function describe(event: ServerEvent, dir: string, verbose: boolean): string | undefined {
  switch (event.type) {
    case "listening":
      return `listening on ${event.url}`;
    case "recovered":
      return `recovered ${event.resumed} running and ${event.requeued} queued runs from the store`;
    case "reloaded":
      return `reloaded ${event.workflow.name} ${event.workflow.version} ` +
        `(code ${event.workflow.codeHash.slice(0, 12)})`;
    case "reload-failed":
      return event.error instanceof WorkflowSyntaxError
        ? `${formatIssues(relocateIssues(dir, event.error.issues))}\n` +
          "reload failed: still serving the last good version"
        : `reload failed: ${(event.error as Error)?.message ?? event.error}; ` +
          "still serving the last good version";
    case "draining":
      return event.graceMs > 0
        ? `draining: running runs may finish within ${formatElapsed(event.graceMs)}…`
        : "stopping: running runs stop here and resume on the next start…";
    case "stopped":
      return "stopped";
    case "error":
      return verbose && event.stack ? `error: ${event.stack}` : `error: ${event.message}`;
  }
}

/**
 * Runs the server until SIGTERM or SIGINT, then drains it; exit 0 after a clean stop, 1 when
 * the workflow does not load.
 */
export async function serveUntilSignal(
  cli: CliContext,
  options: StartServerOptions,
  verbose: boolean,
): Promise<void> {
  const onEvent = (event: ServerEvent) => {
    const text = describe(event, options.dir, verbose);
    if (text !== undefined) printError(cli, text);
  };
  let server;
  try {
    server = await startServer({ ...options, onEvent });
  } catch (error) {
    if (error instanceof WorkflowSyntaxError) {
      printError(cli, formatIssues(relocateIssues(options.dir, error.issues)));
      cli.exitCode = ExitCode.Failed;
      return;
    }
    throw error;
  }
  const running = server;
  // A failed shutdown rejects `finished` too, which reports it below.
  const onSignal = () => void running.shutdown().catch(() => {});
  for (const signal of SIGNALS) Deno.addSignalListener(signal, onSignal);
  try {
    const notice = await commandSandboxNotice();
    if (notice !== undefined) printError(cli, notice);
    await running.finished;
  } finally {
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, onSignal);
  }
  cli.exitCode = ExitCode.Ok;
}
