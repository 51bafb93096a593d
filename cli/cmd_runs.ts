/**
 * `pipedreamer runs list|show|logs|replay|retry|cancel`: run history and control, from the local store or a
 * server (`--url`, `--token` or env PIPEDREAMER_TOKEN).
 *
 * @module
 */

import type { Command } from "commander";
import { join } from "node:path";
import { type RunRecord, RunStatus } from "../engine/mod.ts";
import type { RunSummary } from "../store/mod.ts";
import {
  type CliContext,
  ExitCode,
  formatElapsed,
  globalOptions,
  loadWorkflowOrReport,
  printError,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";
import { intFlag } from "./_flags.ts";
import { formatLogLine } from "./_progress.ts";
import { httpSource, openLocalSource, type RunsSource } from "./_runs_source.ts";
import { readRun, replayFromRun, type RunSourceFlags, withRunSource } from "./_from_run.ts";
import { retryLocal, retryRemote } from "./_runs_retry.ts";

interface SourceOptions {
  url?: string;
  token?: string;
  data: string;
  store?: string;
}

const STATUSES: readonly string[] = Object.values(RunStatus);

function withSource(command: Command): Command {
  return command
    .option("--url <url>", "a running server, e.g. http://localhost:8080")
    .option("--token <token>", "the server's API token (default env PIPEDREAMER_TOKEN)")
    .option("--data <dir>", "directory of the local SQLite store", ".pipedreamer")
    .option("--store <url>", "local store URL: sqlite:<path> or postgres://…");
}

async function openSource(command: Command, opts: SourceOptions): Promise<RunsSource> {
  if (opts.url !== undefined) {
    if (!URL.canParse(opts.url) || !/^https?:$/.test(new URL(opts.url).protocol)) {
      usageError(command, `Cannot use --url "${opts.url}": expected http(s)://host:port`);
    }
    return httpSource(opts.url, opts.token ?? Deno.env.get("PIPEDREAMER_TOKEN"));
  }
  return await openLocalSource(opts.store, opts.data);
}

/** Runs `body` with the source of the command's flags, closing it afterwards. */
async function using(
  command: Command,
  opts: SourceOptions,
  body: (source: RunsSource) => Promise<void>,
): Promise<void> {
  const source = await openSource(command, opts);
  try {
    await body(source);
  } finally {
    await source.close();
  }
}

function when(iso: string | undefined): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-";
}

/** `2025-01-01 10:03:00.123Z`: a log line's timestamp, to the millisecond. */
function logTime(iso: string | undefined): string {
  return iso ? iso.replace("T", " ") : "-";
}

function took(ms: number | undefined): string {
  return ms === undefined ? "-" : formatElapsed(ms);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

function listLines(runs: RunSummary[]): string[] {
  return table([
    ["RUN", "STATUS", "TRIGGER", "STARTED", "DURATION", "WORKFLOW"],
    ...runs.map((run) => [
      run.runId,
      run.status,
      run.trigger ?? "-",
      when(run.startedAt),
      took(run.durationMs),
      `${run.workflow}@${run.version}`,
    ]),
  ]);
}

function showLines(record: RunRecord): string[] {
  const lines = [
    `run       ${record.runId}`,
    `workflow  ${record.workflow}@${record.version}`,
    `status    ${record.status}`,
    `trigger   ${record.trigger ?? "-"}`,
    `started   ${when(record.startedAt)}`,
    `finished  ${when(record.finishedAt)}`,
    `duration  ${took(record.durationMs)}`,
  ];
  if (record.retryOf) {
    lines.push(
      `retry of  ${record.retryOf}${record.retryFrom ? ` (from node "${record.retryFrom}")` : ""}`,
    );
  }
  if (record.error) lines.push(`error     node "${record.error.node}": ${record.error.message}`);
  const nodes = Object.entries(record.nodes);
  if (nodes.length > 0) {
    lines.push(
      "",
      ...table([
        ["NODE", "STATUS", "ATTEMPTS", "DURATION"],
        ...nodes.map(([id, node]) => [
          id,
          node.cached
            ? `${node.status} (cached)`
            : node.reusedFrom
            ? `${node.status} (reused from ${node.reusedFrom})`
            : node.status,
          String(node.attempts),
          took(node.durationMs),
        ]),
      ]),
    );
    lines.push(...historyLines(record));
  }
  if (record.result !== undefined) {
    lines.push("", "result", JSON.stringify(record.result, null, 2));
  }
  return lines;
}

/**
 * The attempt history of each node that was retried or failed: one line per attempt with its
 * status, start, duration and error.
 */
function historyLines(record: RunRecord): string[] {
  const lines: string[] = [];
  for (const [id, node] of Object.entries(record.nodes)) {
    const history = node.history ?? [];
    if (node.reusedFrom || !history.some((h) => h.status !== "succeeded")) continue;
    lines.push("", `attempts of ${id}`);
    for (const h of history) {
      const ms = h.finishedAt ? Date.parse(h.finishedAt) - Date.parse(h.startedAt) : undefined;
      const error = h.error ? `  ${h.error.message}` : "";
      lines.push(
        `  #${h.attempt}  ${h.status.padEnd(9)}  ${logTime(h.startedAt)}  ${
          took(ms).padStart(7)
        }${error}`,
      );
    }
  }
  return lines;
}

/** Registers `runs` and its subcommands. */
export function registerRuns(program: Command, cli: CliContext): void {
  const runs = program
    .command("runs")
    .description("run history and control, from the local store or a server (--url)");

  withSource(runs.command("list").description("list runs, newest first"))
    .option("--status <status>", `only these statuses, comma-separated: ${STATUSES.join(", ")}`)
    .option("--limit <n>", "page size (1-1000)", "20")
    .option("--cursor <cursor>", "the next page, as printed after the previous one")
    .action(
      async (
        opts: SourceOptions & { status?: string; limit: string; cursor?: string },
        command: Command,
      ) => {
        const status = opts.status?.split(",").map((s) => s.trim());
        const bad = status?.find((s) => !STATUSES.includes(s));
        if (bad !== undefined) {
          usageError(command, `Cannot use --status "${bad}": use one of ${STATUSES.join(", ")}`);
        }
        const limit = intFlag(command, "--limit", opts.limit, 1, 1000);
        await using(command, opts, async (source) => {
          const page = await source.list({
            status: status as RunStatus[] | undefined,
            limit,
            cursor: opts.cursor,
          });
          if (globalOptions(command).output === "json") {
            printJson(cli, { runs: page.runs, nextCursor: page.nextCursor ?? null });
          } else if (page.runs.length === 0) {
            printLine(cli, "no runs");
          } else {
            for (const line of listLines(page.runs)) printLine(cli, line);
            if (page.nextCursor) printLine(cli, `more: --cursor ${page.nextCursor}`);
          }
        });
        cli.exitCode = ExitCode.Ok;
      },
    );

  withSource(runs.command("show").description("print a run record").argument("<id>", "run id"))
    .action(async (id: string, opts: SourceOptions, command: Command) => {
      await using(command, opts, async (source) => {
        const record = await source.show(id);
        if (globalOptions(command).output === "json") printJson(cli, record);
        else for (const line of showLines(record)) printLine(cli, line);
      });
      cli.exitCode = ExitCode.Ok;
    });

  withSource(runs.command("logs").description("print a run's log lines").argument("<id>", "run id"))
    .option("-f, --follow", "keep printing new lines until the run ends")
    .action(async (id: string, opts: SourceOptions & { follow?: boolean }, command: Command) => {
      const json = globalOptions(command).output === "json";
      const print = (line: Parameters<typeof formatLogLine>[0]) =>
        printLine(
          cli,
          json ? JSON.stringify(line) : `${logTime(line.ts)} ${formatLogLine(line).trimStart()}`,
        );
      await using(command, opts, async (source) => {
        if (opts.follow) {
          const record = await source.follow(id, print);
          if (!json) printError(cli, `run ${record.status}`);
        } else {
          for (const line of await source.logs(id)) print(line);
        }
      });
      cli.exitCode = ExitCode.Ok;
    });

  runs.command("signal")
    .description("send an event to a waiting run; --data becomes its wait node's output")
    .argument("<id>", "run id")
    .argument("<event>", "event name, e.g. approval")
    .option("--data <json>", "the event payload (JSON)", "null")
    .option("--url <url>", "a running server, e.g. http://localhost:8080")
    .option("--token <token>", "the server's API token (default env PIPEDREAMER_TOKEN)")
    .option("--data-dir <dir>", "directory of the local SQLite store", ".pipedreamer")
    .option("--store <url>", "local store URL: sqlite:<path> or postgres://…")
    .action(
      async (
        id: string,
        event: string,
        opts: Omit<SourceOptions, "data"> & { data: string; dataDir: string },
        command: Command,
      ) => {
        let payload: unknown;
        try {
          payload = JSON.parse(opts.data);
        } catch (error) {
          usageError(command, `Cannot use --data: it is not JSON (${(error as Error).message})`);
        }
        const source = { ...opts, data: opts.dataDir };
        await using(command, source, async (runsSource) => {
          const record = await runsSource.signal(id, event, payload);
          if (globalOptions(command).output === "json") printJson(cli, record);
          else printLine(cli, `run ${record.runId} ${record.status}: event "${event}" delivered`);
        });
        cli.exitCode = ExitCode.Ok;
      },
    );

  withRunSource(
    runs.command("replay")
      .description(
        "run a node locally on its recorded input and print the difference from the recorded output",
      )
      .argument("<id>", "run id")
      .requiredOption("--node <node>", "the node to replay")
      .option("--dir <dir>", "the local workflow directory", "."),
    "<dir>/.pipedreamer",
  )
    .action(
      async (
        id: string,
        opts: RunSourceFlags & { node: string; dir: string },
        command: Command,
      ) => {
        const globals = globalOptions(command);
        const workflow = await loadWorkflowOrReport(cli, opts.dir);
        if (!workflow) return;
        const record = await readRun(command, opts, id, join(opts.dir, ".pipedreamer"));
        const result = await replayFromRun(
          workflow,
          record,
          opts.node,
          globals.verbose ? (line) => printError(cli, formatLogLine(line)) : undefined,
        );
        if (globals.output === "json") {
          printJson(cli, result);
        } else {
          printLine(cli, `replayed node "${result.node}" of run ${result.runId} locally`);
          if (result.same) {
            printLine(cli, "same result as recorded");
          } else {
            printLine(cli, "result differs from the recorded one:");
            for (const line of result.diff.split("\n")) printLine(cli, line);
          }
        }
        cli.exitCode = result.same ? ExitCode.Ok : ExitCode.Failed;
      },
    );

  withRunSource(
    runs.command("retry")
      .description(
        "start a new run that reuses the succeeded nodes of a finished one and runs the rest",
      )
      .argument("<id>", "run id")
      .option("--from <node>", "also run this node and its descendants again")
      .option(
        "--dir <dir>",
        "without --url: the workflow directory whose code runs the retry here",
        ".",
      ),
    "<dir>/.pipedreamer",
  )
    .action(
      async (
        id: string,
        opts: RunSourceFlags & { from?: string; dir: string },
        command: Command,
      ) => {
        const json = globalOptions(command).output === "json";
        if (opts.url !== undefined) {
          if (!URL.canParse(opts.url) || !/^https?:$/.test(new URL(opts.url).protocol)) {
            usageError(command, `Cannot use --url "${opts.url}": expected http(s)://host:port`);
          }
          const token = opts.token ?? Deno.env.get("PIPEDREAMER_TOKEN");
          const started = await retryRemote(opts.url, token, id, opts.from);
          if (json) printJson(cli, started);
          else {
            if (started.warning) printError(cli, `warning: ${started.warning}`);
            printLine(cli, `run ${started.runId} retries ${started.retryOf}`);
          }
          cli.exitCode = ExitCode.Ok;
          return;
        }
        const data = opts.data ?? join(opts.dir, ".pipedreamer");
        const { started, record } = await retryLocal(opts.dir, opts.store, data, id, opts.from);
        if (json) printJson(cli, record);
        else {
          if (started.warning) printError(cli, `warning: ${started.warning}`);
          printLine(cli, `run ${started.runId} retries ${started.retryOf}`);
          for (const line of showLines(record)) printLine(cli, line);
        }
        cli.exitCode = record.status === "succeeded" ? ExitCode.Ok : ExitCode.Failed;
      },
    );

  withSource(
    runs.command("cancel").description("cancel a queued or running run").argument("<id>", "run id"),
  )
    .action(async (id: string, opts: SourceOptions, command: Command) => {
      await using(command, opts, async (source) => {
        const record = await source.cancel(id);
        if (globalOptions(command).output === "json") printJson(cli, record);
        else printLine(cli, `run ${record.runId} ${record.status}`);
      });
      cli.exitCode = ExitCode.Ok;
    });
}
