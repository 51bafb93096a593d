/**
 * `pipedreamer dlq list|replay <subject> [--limit N]`: the dead letters of a queue trigger
 * (JetStream), and their replay to the subject they came from.
 *
 * @module
 */

import type { Command } from "commander";
import type { DeadLetter } from "../triggers/mod.ts";
import { intFlag } from "./_flags.ts";
import { addNatsOptions, type NatsFlags, payloadText, withNats } from "./_nats.ts";
import { type CliContext, globalOptions, printJson, printLine } from "./_output.ts";

interface DlqFlags extends NatsFlags {
  limit: string;
}

/** Registers `dlq` with `list` and `replay`. */
export function registerDlq(program: Command, cli: CliContext): void {
  const dlq = program
    .command("dlq")
    .description("list and replay the dead letters of queue triggers (NATS JetStream)");
  addNatsOptions(
    dlq.command("list")
      .description("print the dead letters on a subject, oldest first")
      .argument("<subject>", "dead-letter subject, e.g. events.github.push.dlq")
      .option("--limit <n>", "at most this many", "100"),
  ).action(async (subject: string, flags: DlqFlags, command: Command) => {
    const limit = intFlag(command, "--limit", flags.limit, 1, 1_000_000);
    const json = globalOptions(command).output === "json";
    const { listDeadLetters } = await import("../triggers/mod.ts");
    const letters = await withNats(flags, (nc) => listDeadLetters(nc, subject, { limit }));
    if (json) {
      printJson(cli, letters.map(toJson));
      return;
    }
    for (const letter of letters) {
      printLine(
        cli,
        `${letter.seq}  ${letter.time}  ${letter.originalSubject ?? "?"}  ` +
          `deliveries ${letter.deliveryCount ?? "?"}  run ${letter.runId ?? "-"}  ` +
          `${letter.error ?? ""}`,
      );
    }
    printLine(
      cli,
      `${letters.length} dead ${letters.length === 1 ? "letter" : "letters"} on ${subject}`,
    );
  });
  addNatsOptions(
    dlq.command("replay")
      .description(
        "republish dead letters to their original subject (new runs), then delete them",
      )
      .argument("<subject>", "dead-letter subject, e.g. events.github.push.dlq")
      .option("--limit <n>", "at most this many, oldest first", "100"),
  ).action(async (subject: string, flags: DlqFlags, command: Command) => {
    const limit = intFlag(command, "--limit", flags.limit, 1, 1_000_000);
    const json = globalOptions(command).output === "json";
    const { replayDeadLetters } = await import("../triggers/mod.ts");
    const replayed = await withNats(flags, (nc) => replayDeadLetters(nc, subject, { limit }));
    if (json) {
      printJson(
        cli,
        replayed.map((r) => ({
          seq: r.seq,
          subject: r.originalSubject,
          replayedSeq: r.replayedSeq,
        })),
      );
      return;
    }
    for (const r of replayed) {
      printLine(cli, `${r.seq} → ${r.originalSubject} (seq ${r.replayedSeq})`);
    }
    printLine(
      cli,
      `${replayed.length} dead ${replayed.length === 1 ? "letter" : "letters"} replayed`,
    );
  });
}

function toJson(letter: DeadLetter) {
  const { data, ...rest } = letter;
  return { ...rest, ...payloadText(data) };
}
