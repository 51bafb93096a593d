/**
 * `pipedreamer replay [dir] --since <time>`: re-runs the messages a JetStream stream stored for
 * the workflow's queue triggers (or for `--subject`) by republishing them.
 *
 * @module
 */

import type { Command } from "commander";
import { parseDuration, type QueueTrigger } from "../engine/mod.ts";
import type { ReplayedMessage } from "../triggers/mod.ts";
import { intFlag } from "./_flags.ts";
import { addNatsOptions, type NatsFlags, withNats } from "./_nats.ts";
import {
  type CliContext,
  CliFailure,
  globalOptions,
  loadWorkflowOrReport,
  printError,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";

interface ReplayFlags extends NatsFlags {
  since: string;
  until?: string;
  subject?: string;
  limit?: string;
  dryRun?: boolean;
}

/** Registers `replay`. */
export function registerReplay(program: Command, cli: CliContext): void {
  addNatsOptions(
    program
      .command("replay")
      .description(
        "re-run the messages stored since a time by republishing them to their subject " +
          "(every JetStream queue trigger of the workflow, or --subject)",
      )
      .argument("[dir]", "workflow directory (ignored with --subject)", ".")
      .requiredOption("--since <time>", "ISO time (2025-01-31T12:00:00Z) or age (30m, 2h, 1d)")
      .option("--until <time>", "only messages stored before this time (ISO or age)")
      .option("--subject <subject>", "replay this subject instead of the workflow's triggers")
      .option("--limit <n>", "at most this many messages per subject")
      .option("--dry-run", "list what would be replayed, publish nothing"),
  ).action(async (dir: string, flags: ReplayFlags, command: Command) => {
    const now = Date.now();
    const since = parseTime(command, "--since", flags.since, now);
    const until = flags.until === undefined
      ? undefined
      : parseTime(command, "--until", flags.until, now);
    const limit = flags.limit === undefined
      ? undefined
      : intFlag(command, "--limit", flags.limit, 1, 1_000_000);
    const json = globalOptions(command).output === "json";
    let targets: { subject: string; stream?: string }[];
    if (flags.subject !== undefined) {
      targets = [{ subject: flags.subject }];
    } else {
      const workflow = await loadWorkflowOrReport(cli, dir);
      if (!workflow) return;
      targets = workflow.triggers
        .filter((t): t is QueueTrigger & { stream: string } =>
          t.type === "queue" && t.stream !== undefined
        )
        .map((t) => ({ subject: t.subject, stream: t.stream }));
      if (targets.length === 0) {
        throw new CliFailure(
          `Cannot replay workflow "${workflow.name}": it has no queue trigger with stream: ` +
            "(core NATS keeps no messages); pass --subject <subject> to replay a subject",
        );
      }
    }
    const { replayStream } = await import("../triggers/mod.ts");
    const results = await withNats(flags, async (nc) => {
      const all: { subject: string; messages: ReplayedMessage[] }[] = [];
      for (const target of targets) {
        const messages = await replayStream(nc, target.subject, {
          since,
          ...(until ? { until } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(target.stream ? { stream: target.stream } : {}),
          dryRun: flags.dryRun === true,
        });
        all.push({ subject: target.subject, messages });
      }
      return all;
    });
    if (json) {
      printJson(cli, results);
      return;
    }
    const verb = flags.dryRun ? "would replay" : "replayed";
    for (const { subject, messages } of results) {
      for (const m of messages) {
        printLine(
          cli,
          `${m.seq}  ${m.time}  ${m.subject}${m.replayedSeq ? ` → seq ${m.replayedSeq}` : ""}`,
        );
      }
      printError(
        cli,
        `${subject}: ${verb} ${messages.length} ${
          messages.length === 1 ? "message" : "messages"
        } since ${since.toISOString()}`,
      );
    }
  });
}

/** An ISO time, or an age such as `2h` (that long before `now`). Anything else exits 2. */
function parseTime(command: Command, flag: string, text: string, now: number): Date {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)/.test(text)) {
    try {
      return new Date(now - parseDuration(text));
    } catch (error) {
      return usageError(command, `Cannot use ${flag} "${text}": ${(error as Error).message}`);
    }
  }
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    usageError(
      command,
      `Cannot use ${flag} "${text}": expected an ISO time such as 2025-01-31T12:00:00Z or an age such as 30m, 2h, 1d`,
    );
  }
  return date;
}
