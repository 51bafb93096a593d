/**
 * `parseWorkflow()`: workflow.yaml text → a located tree in which every key and value keeps its
 * 1-based line and column, so `compileWorkflow()` can point each issue at its source.
 *
 * @module
 */

import { WorkflowSyntaxError } from "../errors.ts";
import { parseFastYaml } from "./_fast_yaml.ts";
import { checkNesting } from "./_nesting.ts";
import { yamlToLocated } from "./_yaml_located.ts";
import type { LocatedNode } from "./located_types.ts";

export type {
  LocatedEntry,
  LocatedMap,
  LocatedNode,
  LocatedScalar,
  LocatedSeq,
  SourcePosition,
} from "./located_types.ts";

/** Files this large try the linear fast path first (see _fast_yaml.ts). */
const FAST_PATH_MIN_LENGTH = 16_384;

/** The result of {@link parseWorkflow}. */
export interface ParsedWorkflow {
  /** The file name used in issues, e.g. "workflow.yaml". */
  file: string;
  /** The source text. */
  text: string;
  /** The document's root value; null for an empty document. */
  root: LocatedNode | null;
}

/**
 * Parses workflow.yaml into a located tree (no validation beyond YAML syntax).
 *
 * Large, plain files take a linear fast path; anything else (and every syntax error) goes
 * through npm:yaml, so both paths produce the same tree.
 *
 * @param text The YAML source.
 * @param file The file name to report in issues, e.g. "workflow.yaml".
 * @returns The located tree.
 * @throws {WorkflowSyntaxError} With one issue per YAML error (line, column and a hint).
 * @example
 * ```ts
 * const parsed = parseWorkflow("name: demo\nversion: 1.0\n", "workflow.yaml");
 * parsed.root?.kind; // "map"
 * ```
 */
export function parseWorkflow(text: string, file: string): ParsedWorkflow {
  // Before anything recursive sees the text: too deep a document would overflow the stack.
  const deep = checkNesting(text);
  if (deep) throw new WorkflowSyntaxError([{ file, ...deep }]);
  const fast = text.length >= FAST_PATH_MIN_LENGTH ? parseFastYaml(text) : undefined;
  if (fast !== undefined) return { file, text, root: fast };
  const result = yamlToLocated(text);
  if ("issues" in result) {
    throw new WorkflowSyntaxError(result.issues.map((issue) => ({ file, ...issue })));
  }
  return { file, text, root: result.root };
}
