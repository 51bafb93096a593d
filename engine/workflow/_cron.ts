/**
 * Cron schedules: strict validation of standard 5-field expressions (the subset that Vixie
 * cron, Kubernetes CronJobs and croner agree on) and the next tick, computed by npm:croner.
 *
 * @module
 */

import { Cron } from "croner";

/** Why a schedule was refused; `offset` is where in the text the problem starts. */
export interface CronProblem {
  message: string;
  hint: string;
  offset: number;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day-of-week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
] as const;

const NICKNAMES = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
const SHAPE =
  'A schedule has 5 fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5"';

type Field = typeof FIELDS[number];

/** Checks a 5-field cron expression (or a nickname such as `@daily`). */
export function checkCron(schedule: string): CronProblem | undefined {
  if (schedule.startsWith("@")) {
    if (NICKNAMES.includes(schedule)) return undefined;
    return {
      message: `Unknown cron nickname "${schedule}"`,
      hint: `Use one of ${NICKNAMES.join(", ")}`,
      offset: 0,
    };
  }
  const parts = [...schedule.matchAll(/\S+/g)];
  if (parts.length !== 5) {
    const detail = parts.length === 6 ? " (seconds are not supported)" : "";
    return {
      message: `Cron schedule "${schedule}" has ${parts.length} fields, expected 5${detail}`,
      hint: SHAPE,
      offset: 0,
    };
  }
  for (const [i, part] of parts.entries()) {
    const problem = checkField(part[0], FIELDS[i]!);
    if (problem) return { ...problem, offset: part.index + problem.offset };
  }
  return undefined;
}

function checkField(text: string, field: Field): CronProblem | undefined {
  let offset = 0;
  for (const item of text.split(",")) {
    const problem = checkItem(item, field);
    if (problem) return { ...problem, offset };
    offset += item.length + 1;
  }
  return undefined;
}

function checkItem(item: string, field: Field): CronProblem | undefined {
  const { name, min, max } = field;
  const bad = (detail: string, hint: string) => ({
    message: `Invalid cron ${name} "${item}": ${detail}`,
    hint,
    offset: 0,
  });
  const range = `${min}-${max}`;
  const names = "names" in field ? ` or ${field.names[0]}-${field.names.at(-1)}` : "";
  if (item === "") return bad("empty list item", "Remove the extra comma");
  const match = /^([^/]+)(?:\/(.*))?$/.exec(item);
  if (!match) return bad("a step needs a range before it", `Write e.g. "*/5"`);
  const [, base, step] = match as unknown as [string, string, string | undefined];
  if (step !== undefined) {
    const size = max - min + 1;
    if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > size) {
      return bad(`the step must be a number from 1 to ${size}`, `Write e.g. "*/5"`);
    }
  }
  if (base === "*" || (base === "?" && (name === "day-of-month" || name === "day-of-week"))) {
    return undefined;
  }
  const bounds = base.split("-");
  if (bounds.length > 2) return bad("too many dashes", `Write a range as "a-b" within ${range}`);
  const values: number[] = [];
  for (const bound of bounds) {
    const value = parseValue(bound, field);
    if (value === undefined) {
      return bad(`must be * or a value in ${range}${names}`, SHAPE);
    }
    values.push(value);
  }
  if (values.length === 2 && values[0]! > values[1]!) {
    return bad(
      "the range runs backwards",
      `Write it from low to high, e.g. "${bounds[1]}-${bounds[0]}"`,
    );
  }
  if (values.length === 1 && step !== undefined) {
    return bad("a step needs a range", `Write "${base}-${max}/${step}"`);
  }
  return undefined;
}

function parseValue(text: string, field: Field): number | undefined {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  if (!("names" in field)) return undefined;
  const index = (field.names as readonly string[]).indexOf(text.toUpperCase());
  if (index < 0) return undefined;
  return field.name === "month" ? index + 1 : index;
}

/** Checks an IANA time zone name such as "Europe/Paris". */
export function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link nextCronTime}. */
export interface NextCronTimeOptions {
  /** IANA time zone the schedule is read in. @default "UTC" */
  timezone?: string;
}

/**
 * The first time strictly after `after` that matches a 5-field cron schedule. Day-of-month and
 * day-of-week combine as in Vixie cron (either matches when both are restricted). A local time
 * skipped by a DST change runs at the first valid time after the gap.
 *
 * @returns The next tick, or undefined when the schedule never fires (e.g. "0 0 30 2 *").
 * @throws {RangeError} When the schedule or the time zone is invalid.
 * @example
 * ```ts
 * nextCronTime("0 9 * * MON", new Date("2024-03-01T00:00:00Z"), { timezone: "Europe/Paris" });
 * // 2024-03-04T08:00:00.000Z
 * ```
 */
export function nextCronTime(
  schedule: string,
  after: Date,
  options: NextCronTimeOptions = {},
): Date | undefined {
  const problem = checkCron(schedule);
  if (problem) throw new RangeError(`Cannot compute next cron time: ${problem.message}`);
  const timezone = options.timezone ?? "UTC";
  if (!isTimeZone(timezone)) {
    throw new RangeError(`Cannot compute next cron time: unknown time zone "${timezone}"`);
  }
  const cron = new Cron(schedule, { paused: true, mode: "5-part", timezone });
  return cron.nextRun(after) ?? undefined;
}
