import assert from "node:assert/strict";
import { checkCron, isTimeZone, nextCronTime } from "./_cron.ts";

Deno.test("`checkCron()` accepts standard 5-field expressions and nicknames", () => {
  const valid = [
    "* * * * *",
    "0 9 * * *",
    "*/15 9-17 * * 1-5",
    "0 0 1,15 * *",
    "30 2 * JAN-MAR,DEC sun",
    "0 12 ? * MON",
    "0-30/10 * * * 7",
    "5 4 * * SAT",
    "  0   9 * * *  ",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
  ];
  for (const schedule of valid) assert.equal(checkCron(schedule), undefined, schedule);
});

Deno.test("`checkCron()` says which field is wrong and where", () => {
  const table: [string, string, number][] = [
    ["60 * * * *", 'Invalid cron minute "60"', 0],
    ["0 24 * * *", 'Invalid cron hour "24"', 2],
    ["0 0 0 * *", 'Invalid cron day-of-month "0"', 4],
    ["0 0 1 13 *", 'Invalid cron month "13"', 6],
    ["0 0 * * 8", 'Invalid cron day-of-week "8"', 8],
    ["0 0 * * MON,XYZ", 'Invalid cron day-of-week "XYZ"', 12],
    ["0 0 * JANUARY *", 'Invalid cron month "JANUARY"', 6],
    ["*/0 * * * *", "the step must be a number from 1 to 60", 0],
    ["5/10 * * * *", "a step needs a range", 0],
    ["0 17-9 * * *", "the range runs backwards", 2],
    ["0 1-2-3 * * *", "too many dashes", 2],
    ["0 9 * * 1,,2", "empty list item", 10],
    ["0 9 L * *", 'Invalid cron day-of-month "L"', 4],
    ["0 9 * * 1#2", 'Invalid cron day-of-week "1#2"', 8],
    ["? 9 * * *", 'Invalid cron minute "?"', 0],
    ["0 9 * *", "has 4 fields, expected 5", 0],
    ["0 0 9 * * *", "has 6 fields, expected 5 (seconds are not supported)", 0],
    ["@reboot", 'Unknown cron nickname "@reboot"', 0],
  ];
  for (const [schedule, message, offset] of table) {
    const problem = checkCron(schedule);
    assert.ok(problem, schedule);
    assert.ok(problem.message.includes(message), `${schedule}: ${problem.message}`);
    assert.equal(problem.offset, offset, schedule);
    assert.ok(problem.hint.length > 0);
  }
});

Deno.test("`nextCronTime()` finds the next tick strictly after a given time", () => {
  const table: [string, string, string | undefined, string][] = [
    ["0 9 * * *", "2024-03-01T08:59:59Z", undefined, "2024-03-01T09:00:00.000Z"],
    ["0 9 * * *", "2024-03-01T09:00:00Z", undefined, "2024-03-02T09:00:00.000Z"],
    ["*/15 * * * *", "2024-03-01T10:07:00Z", undefined, "2024-03-01T10:15:00.000Z"],
    ["0 9 * * MON", "2024-03-01T00:00:00Z", "Europe/Paris", "2024-03-04T08:00:00.000Z"],
    ["0 0 29 2 *", "2024-03-01T00:00:00Z", undefined, "2028-02-29T00:00:00.000Z"],
    ["@hourly", "2024-03-01T10:30:00Z", undefined, "2024-03-01T11:00:00.000Z"],
    // Day-of-month and day-of-week both restricted: either matches (Vixie cron).
    ["0 9 15 * MON", "2024-03-12T00:00:00Z", undefined, "2024-03-15T09:00:00.000Z"],
    ["0 9 15 * MON", "2024-03-16T00:00:00Z", undefined, "2024-03-18T09:00:00.000Z"],
    // 02:30 does not exist in Berlin on 2024-03-31: it runs right after the gap.
    ["30 2 * * *", "2024-03-30T12:00:00Z", "Europe/Berlin", "2024-03-31T01:00:00.000Z"],
    ["0 9 * * *", "2024-07-01T00:00:00Z", "America/New_York", "2024-07-01T13:00:00.000Z"],
  ];
  for (const [schedule, after, timezone, expected] of table) {
    const next = nextCronTime(schedule, new Date(after), { timezone });
    assert.equal(next?.toISOString(), expected, `${schedule} after ${after} in ${timezone}`);
  }
});

Deno.test("`nextCronTime()` returns undefined for a schedule that never fires", () => {
  assert.equal(nextCronTime("0 0 30 2 *", new Date("2024-01-01T00:00:00Z")), undefined);
});

Deno.test("`nextCronTime()` rejects a bad schedule or time zone", () => {
  assert.throws(() => nextCronTime("0 25 * * *", new Date()), {
    name: "RangeError",
    message: 'Cannot compute next cron time: Invalid cron hour "25": must be * or a value in 0-23',
  });
  assert.throws(() => nextCronTime("0 9 * * *", new Date(), { timezone: "Mars/Base" }), {
    name: "RangeError",
    message: 'Cannot compute next cron time: unknown time zone "Mars/Base"',
  });
  assert.equal(isTimeZone("Europe/Paris"), true);
  assert.equal(isTimeZone("UTC"), true);
  assert.equal(isTimeZone("Mars/Base"), false);
});
