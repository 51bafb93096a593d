/**
 * `triggers:` → manual, cron and queue triggers with their defaults.
 *
 * @module
 */

import type { CronTrigger, QueueTrigger, Trigger } from "../workflow_model.ts";
import type { LocatedEntry, LocatedMap, LocatedNode } from "./located_types.ts";
import type { Checker } from "./_checker.ts";
import { describe, positionWithin, toPlain } from "./_located.ts";
import { checkCron, isTimeZone, nextCronTime } from "./_cron.ts";
import { checkRate } from "./_duration.ts";
import { closest, didYouMean } from "./_suggest.ts";

const TRIGGER_KEYS = {
  manual: ["type"],
  cron: ["type", "schedule", "timezone", "input"],
  queue: [
    "type",
    "subject",
    "stream",
    "durable",
    "maxConcurrency",
    "rateLimit",
    "maxDeliver",
    "deadLetter",
  ],
} as const;
type Kind = keyof typeof TRIGGER_KEYS;
const KINDS = Object.keys(TRIGGER_KEYS) as Kind[];
const TYPE_HINTS: Record<string, string> = {
  webhook:
    "Webhooks publish to a subject: declare webhooks: { github: { subject: events.github.push, " +
    "verify: github, secret: github-webhook } }; to run on that subject: use type: queue",
  http: "Every workflow can be run over HTTP (POST /run) with type: manual",
  nats: "Write type: queue",
  schedule: "Write type: cron",
};
/** A time that every valid schedule fires after: used to detect schedules that never fire. */
const REFERENCE_TIME = new Date("2000-01-01T00:00:00Z");

/** Compiles `triggers:`; absent means `[{ type: manual }]`. */
export function compileTriggers(
  checker: Checker,
  entry: LocatedEntry | undefined,
  workflowName: string,
): Trigger[] {
  if (!entry) return [{ type: "manual" }];
  if (entry.value.kind !== "seq") {
    checker.report(
      entry.value.pos,
      `Expected a list for "triggers", got ${describe(entry.value)}`,
      "Write triggers: [{ type: manual }]",
    );
    return [];
  }
  const triggers: Trigger[] = [];
  for (const item of entry.value.items) {
    const trigger = compileTrigger(checker, item, workflowName);
    if (trigger) triggers.push(trigger);
  }
  return triggers;
}

function compileTrigger(checker: Checker, item: LocatedNode, workflowName: string) {
  // `- manual` is shorthand for `- type: manual`.
  const shorthand = item.kind === "scalar" && typeof item.value === "string";
  let map: LocatedMap | undefined;
  if (shorthand) {
    map = {
      kind: "map",
      pos: item.pos,
      entries: [{ key: "type", keyPos: item.pos, value: item }],
    };
  } else {
    map = checker.map(item, "a trigger", "Write - type: manual");
  }
  if (!map) return undefined;
  const typeEntry = map.entries.find((entry) => entry.key === "type");
  if (!typeEntry) {
    checker.report(map.pos, "Trigger has no type", `Add type: ${KINDS.join(" | ")}`);
    return undefined;
  }
  const type = checker.string(typeEntry, { example: "manual" });
  if (type === undefined) return undefined;
  if (!KINDS.includes(type as Kind)) {
    const hint = TYPE_HINTS[type] ?? didYouMean(type, KINDS, "types");
    checker.report(typeEntry.value.pos, `Unknown trigger type "${type}"`, hint);
    return undefined;
  }
  const kind = type as Kind;
  const misplaced: Record<string, string> = {};
  for (const other of KINDS) {
    for (const key of TRIGGER_KEYS[other]) {
      if (!(TRIGGER_KEYS[kind] as readonly string[]).includes(key)) {
        misplaced[key] = `"${key}" belongs to a ${other} trigger (type: ${other})`;
      }
    }
  }
  const keys = checker.keys<string>(map, TRIGGER_KEYS[kind], `${kind} trigger key`, misplaced);
  if (kind === "manual") return { type: "manual" } as const;
  if (kind === "cron") return compileCron(checker, map, keys);
  return compileQueue(checker, map, keys, workflowName);
}

function compileCron(checker: Checker, map: LocatedMap, keys: Map<string, LocatedEntry>) {
  const scheduleEntry = keys.get("schedule");
  if (!scheduleEntry) {
    checker.report(map.pos, "Cron trigger has no schedule", 'Add schedule: "0 9 * * *"');
    return undefined;
  }
  const schedule = checker.string(scheduleEntry, { example: '"0 9 * * *"' });
  let ok = schedule !== undefined;
  if (schedule !== undefined) {
    const problem = checkCron(schedule);
    if (problem) {
      checker.report(
        positionWithin(scheduleEntry.value, problem.offset),
        problem.message,
        problem.hint,
      );
      ok = false;
    }
  }
  const trigger: CronTrigger = { type: "cron", schedule: schedule ?? "" };
  const timezoneEntry = keys.get("timezone");
  if (timezoneEntry) {
    const timezone = checker.string(timezoneEntry, { example: "Europe/Paris" });
    if (timezone !== undefined && !isTimeZone(timezone)) {
      const match = closest(timezone, Intl.supportedValuesOf("timeZone"));
      checker.report(
        timezoneEntry.value.pos,
        `Unknown time zone "${timezone}"`,
        match ? `Did you mean "${match}"?` : 'Use an IANA time zone name, e.g. "Europe/Paris"',
      );
      ok = false;
    } else if (timezone !== undefined) {
      trigger.timezone = timezone;
    } else {
      ok = false;
    }
  }
  if (ok && nextCronTime(trigger.schedule, REFERENCE_TIME, trigger) === undefined) {
    checker.report(
      scheduleEntry.value.pos,
      `Cron schedule "${trigger.schedule}" never fires`,
      "Check the day-of-month against the month (e.g. February has no 30th)",
    );
  }
  const input = keys.get("input");
  if (input) trigger.input = toPlain(input.value);
  return trigger;
}

function compileQueue(
  checker: Checker,
  map: LocatedMap,
  keys: Map<string, LocatedEntry>,
  workflowName: string,
) {
  const subjectEntry = keys.get("subject");
  if (!subjectEntry) {
    checker.report(map.pos, "Queue trigger has no subject", "Add subject: events.github.push");
    return undefined;
  }
  const subject = readSubject(checker, subjectEntry, true);
  const trigger: QueueTrigger = { type: "queue", subject: subject ?? "", durable: workflowName };
  const stream = keys.get("stream");
  if (stream) trigger.stream = readName(checker, stream);
  const durable = keys.get("durable");
  if (durable) trigger.durable = readName(checker, durable) ?? workflowName;
  const maxConcurrency = keys.get("maxConcurrency");
  if (maxConcurrency) {
    trigger.maxConcurrency = checker.int(maxConcurrency, { min: 1, max: 10_000, example: 4 });
  }
  const maxDeliver = keys.get("maxDeliver");
  if (maxDeliver) trigger.maxDeliver = checker.int(maxDeliver, { min: 1, max: 1_000, example: 5 });
  const rateLimit = keys.get("rateLimit");
  if (rateLimit) {
    const text = checker.string(rateLimit, { example: "10/s" });
    const rate = text === undefined ? undefined : checkRate(text);
    if (rate && "message" in rate) checker.report(rateLimit.value.pos, rate.message, rate.hint);
    else if (rate) trigger.rateLimit = rate;
  }
  const deadLetter = keys.get("deadLetter");
  for (const entry of [maxDeliver, deadLetter]) {
    if (entry && !stream) {
      checker.report(
        entry.keyPos,
        `"${entry.key}" needs stream: (core NATS delivers at most once, without redelivery)`,
        "Add stream: <JetStream stream name>, or remove it",
      );
    }
  }
  if (deadLetter) trigger.deadLetter = readSubject(checker, deadLetter, false);
  else if (stream && subject !== undefined) trigger.deadLetter = defaultDeadLetter(subject);
  if (
    trigger.deadLetter !== undefined && subject !== undefined &&
    matches(subject, trigger.deadLetter)
  ) {
    checker.report(
      (deadLetter ?? subjectEntry).value.pos,
      `Dead-letter subject "${trigger.deadLetter}" matches the trigger subject "${subject}"`,
      "Set deadLetter: to a subject outside the trigger subject, or dead letters would run again",
    );
  }
  for (const key of ["stream", "maxConcurrency", "maxDeliver"] as const) {
    if (trigger[key] === undefined) delete trigger[key];
  }
  return trigger;
}

/** `<subject>.dlq`, built from the literal tokens when the subject has wildcards. */
function defaultDeadLetter(subject: string): string {
  const literal = subject.split(".").filter((token) => token !== "*" && token !== ">");
  return [...literal, "dlq"].join(".");
}

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
function matches(pattern: string, subject: string): boolean {
  const [p, s] = [pattern.split("."), subject.split(".")];
  for (const [i, token] of p.entries()) {
    if (token === ">") return s.length > i;
    if (i >= s.length || (token !== "*" && token !== s[i])) return false;
  }
  return p.length === s.length;
}

/** A NATS subject (wildcards only when allowed), or an issue. */
export function readSubject(checker: Checker, entry: LocatedEntry, wildcards: boolean) {
  const subject = checker.string(entry, { example: "events.github.push" });
  if (subject === undefined) return undefined;
  const tokens = subject.split(".");
  const bad = tokens.findIndex((token, i) =>
    token === "" || /[\s]/.test(token) ||
    (!wildcards && (token === "*" || token === ">")) ||
    (token === ">" && i !== tokens.length - 1) ||
    (token.length > 1 && /[*>]/.test(token))
  );
  if (bad < 0) return subject;
  const detail = wildcards
    ? "; `*` matches one token and `>` the rest (last only)"
    : " without wildcards";
  checker.report(
    entry.value.pos,
    `Invalid NATS subject "${subject}"`,
    `Write dot-separated tokens${detail}, e.g. events.github.push`,
  );
  return undefined;
}

function readName(checker: Checker, entry: LocatedEntry) {
  const name = checker.string(entry, { nonEmpty: true, example: "EVENTS" });
  if (name === undefined) return undefined;
  if (/^[A-Za-z0-9_-]+$/.test(name)) return name;
  checker.report(
    entry.value.pos,
    `Invalid ${entry.key} name "${name}"`,
    "Use letters, digits, '-' and '_' only (no spaces, dots or wildcards)",
  );
  return undefined;
}
