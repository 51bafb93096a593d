/**
 * Durations and ages on the command line: parsing `--timeout`, showing how old something is.
 *
 * @module
 */

import type { Command } from "commander";
import { parseDuration } from "../engine/mod.ts";
import { usageError } from "./_output.ts";

/** Parses a `--timeout` value (`30s`, `5m`); a bad one is a usage error. */
export function readTimeout(command: Command, value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    return usageError(command, `Cannot use --timeout "${value}": ${(error as Error).message}`);
  }
}

/** Age like kubectl: `45s`, `12m`, `3h`, `5d`. */
export function formatAge(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return "-";
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
