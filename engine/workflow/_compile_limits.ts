/**
 * Sandbox limits (SPEC §4): `limits: { memory }` on a node and `config.limits.memory` for the
 * workflow default, and a node's `isolation`.
 *
 * @module
 */

import type { LocatedEntry } from "./located_types.ts";
import type { Checker } from "./_checker.ts";
import { entryOf } from "./_located.ts";

/** Default heap limit of a node's sandbox, in MiB (`config.limits.memory`). */
export const DEFAULT_MEMORY_MIB = 256;
/** Smallest heap a Deno sandbox starts with. */
export const MIN_MEMORY_MIB = 32;
/** Largest heap limit accepted (64 GiB). */
export const MAX_MEMORY_MIB = 65_536;

const UNITS: Record<string, number> = {
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  K: 1000 / 1_048_576,
  M: 1_000_000 / 1_048_576,
  G: 1_000_000_000 / 1_048_576,
};

/**
 * A memory size in MiB from a Kubernetes-style quantity: `256Mi`, `1Gi`, `512M`, `1.5Gi`; a
 * bare number is bytes. Undefined when it is not one.
 */
export function parseMemory(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|K|M|G)?\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const mib = match[2] === undefined ? value / 1_048_576 : value * UNITS[match[2]]!;
  return Math.floor(mib);
}

/** A `memory:` entry in MiB, reported when invalid or out of bounds. */
export function checkMemory(checker: Checker, entry: LocatedEntry): number | undefined {
  const node = entry.value;
  const hint = `Write e.g. ${entry.key}: 512Mi (units: Mi, Gi)`;
  const text = node.kind === "scalar" && node.value !== null && typeof node.value !== "boolean"
    ? String(node.value)
    : undefined;
  const mib = text === undefined ? undefined : parseMemory(text);
  if (mib === undefined) {
    checker.report(node.pos, `Expected a memory size for "${entry.key}"`, hint);
    return undefined;
  }
  if (mib < MIN_MEMORY_MIB || mib > MAX_MEMORY_MIB) {
    checker.report(
      node.pos,
      `"${entry.key}" must be ${MIN_MEMORY_MIB}Mi to ${MAX_MEMORY_MIB / 1024}Gi, got ${text}`,
      hint,
    );
    return undefined;
  }
  return mib;
}

/** `limits:` of a node or of `config:`: its memory limit in MiB, if set. */
export function compileLimits(checker: Checker, entry: LocatedEntry): number | undefined {
  const map = checker.map(entry.value, "limits", "Write limits: { memory: 512Mi }");
  if (!map) return undefined;
  const keys = checker.keys(map, ["memory"] as const, "limit");
  const memory = keys.get("memory");
  return memory ? checkMemory(checker, memory) : undefined;
}

/** `config.limits`, checked only where present (config: is also the nodes' free-form map). */
export function compileConfigLimits(
  checker: Checker,
  config: LocatedEntry | undefined,
): number | undefined {
  const node = config?.value;
  const limits = node && node.kind === "map" ? entryOf(node, "limits") : undefined;
  return limits && compileLimits(checker, limits);
}

/** `isolation:` of a node: `node` (a warm realm across runs, the default) or `run`. */
export function compileIsolation(checker: Checker, entry: LocatedEntry): "node" | "run" {
  const value = checker.string(entry, { example: "run" });
  if (value === "run" || value === "node") return value;
  if (value !== undefined) {
    checker.report(
      entry.value.pos,
      `Unknown isolation "${value}"`,
      "Use isolation: run (a fresh sandbox per run) or node (the default: warm across runs)",
    );
  }
  return "node";
}
