/**
 * The issue collector of `compileWorkflow()` and its typed readers: each reader returns the
 * value, or records a located issue with a hint and returns undefined, so one pass finds
 * every problem.
 *
 * @module
 */

import type { WorkflowIssue } from "../errors.ts";
import type { LocatedEntry, LocatedMap, LocatedNode, SourcePosition } from "./located_types.ts";
import { describe } from "./_located.ts";
import { checkDuration } from "./_duration.ts";
import { didYouMean } from "./_suggest.ts";

/** Longest timer a JavaScript runtime can wait (setTimeout's 32-bit limit), ~24.8 days. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Collects issues for one workflow file. */
export class Checker {
  readonly issues: WorkflowIssue[] = [];

  /** @param file The workflow file as reported in issues, e.g. "workflow.yaml". */
  constructor(readonly file: string) {}

  /** Records an issue in the workflow file (or in `file`). */
  report(pos: SourcePosition, message: string, hint?: string, file = this.file): void {
    this.issues.push({
      file,
      line: pos.line,
      column: pos.column,
      message,
      ...(hint ? { hint } : {}),
    });
  }

  /** The node as a map, or an issue. */
  map(node: LocatedNode, what: string, hint?: string): LocatedMap | undefined {
    if (node.kind === "map") return node;
    this.report(node.pos, `Expected a map for ${what}, got ${describe(node)}`, hint);
    return undefined;
  }

  /**
   * The known entries of a map by key; every other key is an issue with a "Did you mean"
   * hint, or the hint `misplaced` gives for it (e.g. "Move it under config:").
   */
  keys<K extends string>(
    map: LocatedMap,
    allowed: readonly K[],
    noun: string,
    misplaced: Record<string, string> = {},
  ): Map<K, LocatedEntry> {
    const known = new Map<K, LocatedEntry>();
    for (const entry of map.entries) {
      if ((allowed as readonly string[]).includes(entry.key)) {
        known.set(entry.key as K, entry);
      } else {
        const hint = Object.hasOwn(misplaced, entry.key)
          ? misplaced[entry.key]
          : didYouMean(entry.key, allowed);
        this.report(entry.keyPos, `Unknown ${noun} "${entry.key}"`, hint);
      }
    }
    return known;
  }

  /** A string (a YAML number or boolean is refused: quote it). */
  string(entry: LocatedEntry, options: { nonEmpty?: boolean; example?: string } = {}) {
    const node = entry.value;
    if (node.kind === "scalar" && typeof node.value === "string") {
      if (!options.nonEmpty || node.value.trim() !== "") return node.value;
      this.report(
        node.pos,
        `"${entry.key}" must not be empty`,
        this.#example(entry, options.example),
      );
      return undefined;
    }
    const quoted = node.kind === "scalar" && node.source !== "" && node.value !== null
      ? `Quote it: ${entry.key}: "${node.source}"`
      : this.#example(entry, options.example);
    this.report(node.pos, `Expected a string for "${entry.key}", got ${describe(node)}`, quoted);
    return undefined;
  }

  /** A boolean. */
  bool(entry: LocatedEntry): boolean | undefined {
    const node = entry.value;
    if (node.kind === "scalar" && typeof node.value === "boolean") return node.value;
    this.report(
      node.pos,
      `Expected true or false for "${entry.key}", got ${describe(node)}`,
      `Write ${entry.key}: true`,
    );
    return undefined;
  }

  /** An integer within bounds. */
  int(entry: LocatedEntry, options: { min: number; max?: number; example: number }) {
    const node = entry.value;
    const max = options.max ?? Number.MAX_SAFE_INTEGER;
    const hint = `Write a whole number, e.g. ${entry.key}: ${options.example}`;
    if (node.kind !== "scalar" || typeof node.value !== "number" || !Number.isInteger(node.value)) {
      this.report(node.pos, `Expected an integer for "${entry.key}", got ${describe(node)}`, hint);
      return undefined;
    }
    if (node.value < options.min || node.value > max) {
      const bounds = options.max === undefined
        ? `at least ${options.min}`
        : `${options.min} to ${max}`;
      this.report(node.pos, `"${entry.key}" must be ${bounds}, got ${node.value}`, hint);
      return undefined;
    }
    return node.value;
  }

  /** A duration in milliseconds, e.g. "10s" → 10000. */
  duration(entry: LocatedEntry, options: { min?: number; max?: number } = {}) {
    const node = entry.value;
    const example = `Write e.g. ${entry.key}: 10s (units: ms, s, m, h, d)`;
    if (node.kind !== "scalar" || node.value === null || typeof node.value === "boolean") {
      this.report(
        node.pos,
        `Expected a duration for "${entry.key}", got ${describe(node)}`,
        example,
      );
      return undefined;
    }
    const result = checkDuration(String(typeof node.value === "string" ? node.value : node.source));
    if (typeof result !== "number") {
      this.report(node.pos, result.message, result.hint);
      return undefined;
    }
    const min = options.min ?? 0;
    if (result < min) {
      this.report(node.pos, `"${entry.key}" must be at least ${min}ms`, example);
      return undefined;
    }
    if (options.max !== undefined && result > options.max) {
      this.report(
        node.pos,
        `"${entry.key}" is too long (the limit is 24d)`,
        "Use a shorter duration",
      );
      return undefined;
    }
    return result;
  }

  /** A list of non-empty strings; with `allowString`, one string counts as a list of one. */
  stringList(entry: LocatedEntry, options: { allowString?: boolean; example: string }) {
    const node = entry.value;
    const hint = `Write e.g. ${entry.key}: ${options.example}`;
    if (options.allowString && node.kind === "scalar" && typeof node.value === "string") {
      return [{ value: node.value, node }];
    }
    if (node.kind !== "seq") {
      this.report(node.pos, `Expected a list for "${entry.key}", got ${describe(node)}`, hint);
      return undefined;
    }
    const values: { value: string; node: LocatedNode }[] = [];
    let ok = true;
    for (const item of node.items) {
      if (item.kind === "scalar" && typeof item.value === "string" && item.value !== "") {
        values.push({ value: item.value, node: item });
      } else {
        ok = false;
        this.report(
          item.pos,
          `Expected a non-empty string in "${entry.key}", got ${describe(item)}`,
          hint,
        );
      }
    }
    return ok ? values : undefined;
  }

  #example(entry: LocatedEntry, example?: string) {
    return example ? `Write e.g. ${entry.key}: ${example}` : undefined;
  }
}
