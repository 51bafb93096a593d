/**
 * Helpers for compiler tests: compile a workflow.yaml text against in-memory node files, and
 * find where a marker sits in a text (independently of the parser under test).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type WorkflowIssue, WorkflowSyntaxError } from "../errors.ts";
import { parseWorkflow } from "../workflow/parse_workflow.ts";
import { compileWorkflow } from "../workflow/compile_workflow.ts";
import type { CompiledWorkflow } from "../workflow_model.ts";

/** The directory the in-memory workflows live in. */
export const DIR = "/wf";

/** A minimal valid node module. */
export const NODE_SOURCE = "export default async function run(_ctx, input) { return input; }\n";

/** Node files every test workflow may use: nodes/a.ts … nodes/e.ts. */
export const DEFAULT_FILES: Record<string, string> = Object.fromEntries(
  ["a", "b", "c", "d", "e", "notify-failure"].map((id) => [`nodes/${id}.ts`, NODE_SOURCE]),
);

/** Compiles `yaml` with the default node files plus `files` (paths relative to {@link DIR}). */
export function compileText(yaml: string, files: Record<string, string> = {}): CompiledWorkflow {
  const sources = new Map(
    Object.entries({ ...DEFAULT_FILES, ...files }).map(([path, text]) => [`${DIR}/${path}`, text]),
  );
  return compileWorkflow(parseWorkflow(yaml, "workflow.yaml"), { dir: DIR, sources });
}

/** The issues `compileText()` (or `parseWorkflow()`) throws for `yaml`; fails if it compiles. */
export function issuesOf(yaml: string, files: Record<string, string> = {}): WorkflowIssue[] {
  try {
    compileText(yaml, files);
  } catch (error) {
    assert.ok(error instanceof WorkflowSyntaxError, `expected WorkflowSyntaxError, got ${error}`);
    return error.issues;
  }
  assert.fail(`expected the workflow to be rejected:\n${yaml}`);
}

/** 1-based line and column of the `nth` (0-based) occurrence of `marker` in `text`. */
export function positionOf(
  text: string,
  marker: string,
  nth = 0,
): { line: number; column: number } {
  let offset = -1;
  for (let i = 0; i <= nth; i++) {
    offset = text.indexOf(marker, offset + 1);
    assert.ok(offset >= 0, `marker ${JSON.stringify(marker)} #${nth} not found`);
  }
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
