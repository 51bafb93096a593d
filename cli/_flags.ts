/**
 * Parsing of numeric and duration flag values: a bad value is a usage error (exit 2).
 *
 * @module
 */

import type { Command } from "commander";
import { parseDuration } from "../engine/mod.ts";
import { usageError } from "./_output.ts";

/** Parses an integer flag in `[min, max]`; anything else is a usage error. */
export function intFlag(command: Command, flag: string, text: string, min: number, max: number) {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    usageError(command, `Cannot use ${flag} "${text}": expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** Parses a duration flag such as `30s`; anything else is a usage error. */
export function durationFlag(command: Command, flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    return usageError(command, `Cannot use ${flag}: ${(error as Error).message}`);
  }
}
