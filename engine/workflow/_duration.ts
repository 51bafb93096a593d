/**
 * Durations as written in workflow.yaml: `500ms`, `10s`, `5m`, `2h`, `30d`, and combinations
 * from the largest unit down such as `1h30m` or `1m30.5s`.
 *
 * @module
 */

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNIT_ORDER: readonly Unit[] = ["d", "h", "m", "s", "ms"];

/** Why a duration was refused, with the fix. */
export interface DurationProblem {
  message: string;
  hint: string;
}

/** Parses a duration to milliseconds, or says what is wrong with it. */
export function checkDuration(text: string): number | DurationProblem {
  const hint = 'Write a number with a unit (ms, s, m, h, d), e.g. "500ms", "10s", "1h30m"';
  if (text.length === 0) return { message: "Duration is empty", hint };
  if (/^\d+(\.\d+)?$/.test(text)) {
    return {
      message: `Duration "${text}" has no unit`,
      hint: `Add a unit, e.g. "${text}s" or "${text}ms"`,
    };
  }
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let ms = 0;
  let lastUnit = -1;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    if (!match) {
      const lower = text.toLowerCase();
      const fixable = lower !== text && typeof checkDuration(lower) === "number";
      return {
        message: `Invalid duration "${text}"`,
        hint: fixable ? `Write units in lower case: "${lower}"` : hint,
      };
    }
    const unitIndex = UNIT_ORDER.indexOf(match[2] as Unit);
    if (unitIndex <= lastUnit) {
      return {
        message: `Invalid duration "${text}": units must go from largest to smallest, once each`,
        hint: 'Write e.g. "1h30m", not "30m1h"',
      };
    }
    lastUnit = unitIndex;
    ms += Number(match[1]) * UNIT_MS[match[2] as Unit];
  }
  return Math.round(ms);
}

/**
 * Parses a duration such as `"1h30m"` to milliseconds.
 *
 * @throws {RangeError} When the text is not a duration.
 * @example
 * ```ts
 * parseDuration("1m30s"); // 90_000
 * ```
 */
export function parseDuration(text: string): number {
  const result = checkDuration(text);
  if (typeof result === "number") return result;
  throw new RangeError(`Cannot parse duration: ${result.message}. ${result.hint}`);
}

/**
 * Formats milliseconds as the shortest duration text, e.g. `90000` → `"1m30s"`.
 *
 * @example
 * ```ts
 * formatDuration(5_400_000); // "1h30m"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let text = "";
  for (const unit of UNIT_ORDER) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * UNIT_MS[unit];
  }
  return text;
}

/** A token-bucket rate: `count` per `perMs` milliseconds. */
export interface Rate {
  count: number;
  perMs: number;
}

/**
 * Parses a rate such as `10/s`, `600/m`, `5/h`, `1/d` or `100/10s`.
 * Returns the rate, or a problem with a fix.
 */
export function checkRate(text: string): Rate | DurationProblem {
  const hint = 'Write <count>/<unit>, e.g. "10/s", "600/m", "5/h" or "100/10s"';
  const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  if (!match) return { message: `Invalid rate "${text}"`, hint };
  const count = Number(match[1]);
  if (!Number.isSafeInteger(count) || count < 1) {
    return { message: `Invalid rate "${text}": the count must be at least 1`, hint };
  }
  const per = match[2]!;
  const perMs = per in UNIT_MS ? UNIT_MS[per as Unit] : checkDuration(per);
  if (typeof perMs !== "number") {
    return { message: `Invalid rate "${text}": ${perMs.message}`, hint };
  }
  if (perMs <= 0) return { message: `Invalid rate "${text}": the period must be positive`, hint };
  return { count, perMs };
}
