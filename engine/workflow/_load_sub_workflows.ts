/**
 * Sub-workflows (SPEC §9 `workflow:`): loads every workflow a workflow's nodes name, recursively,
 * and rejects cycles between workflows with their path.
 *
 * @module
 */

import { relative } from "node:path";
import type { CompiledWorkflow } from "../workflow_model.ts";
import { type WorkflowIssue, WorkflowSyntaxError } from "../errors.ts";
import type { ParsedWorkflow } from "./parse_workflow.ts";
import { entryOf } from "./_located.ts";
import { sha256Hex } from "./_node_files.ts";

/** Loads one workflow directory (without its sub-workflows); `loadWorkflow` in production. */
export type LoadOne = (
  dir: string,
) => Promise<{ workflow: CompiledWorkflow; parsed: ParsedWorkflow }>;

/**
 * Fills `workflow.subWorkflows` (keyed by absolute directory) with every workflow reachable
 * through `workflow:` nodes. Each directory is loaded once.
 *
 * @throws {WorkflowSyntaxError} at the `workflow:` value for a missing or invalid child (its
 *   issues follow, named by their path from the parent) or for a cycle (with its path)
 */
export async function loadSubWorkflows(
  workflow: CompiledWorkflow,
  parsed: ParsedWorkflow,
  loadOne: LoadOne,
): Promise<void> {
  const loaded = new Map<string, CompiledWorkflow>([[workflow.dir, workflow]]);
  const issues: WorkflowIssue[] = [];
  await visit(workflow, parsed, [workflow.dir], loaded, issues, loadOne, workflow.dir);
  if (issues.length > 0) throw new WorkflowSyntaxError(issues);
  loaded.delete(workflow.dir);
  if (loaded.size === 0) return;
  // One map for all: a child's own workflow: nodes find their workflows in it too.
  const all = Object.fromEntries(loaded);
  workflow.subWorkflows = all;
  for (const child of loaded.values()) child.subWorkflows = all;
  workflow.codeHash = withSubWorkflowHashes(workflow.codeHash, all);
}

/**
 * The code hash of a workflow together with its sub-workflows: `own` (the workflow's own
 * hash) combined with every sub-workflow's name and own hash, so that a change in a child is a
 * new code version of the parent (a new deploy, a new code snapshot). Children keep their own.
 *
 * @example
 * ```ts
 * workflow.codeHash = withSubWorkflowHashes(ownHash, workflow.subWorkflows ?? {});
 * ```
 */
export function withSubWorkflowHashes(
  own: string,
  subWorkflows: Record<string, CompiledWorkflow>,
): string {
  const parts = Object.values(subWorkflows).map((child) => `${child.name}\0${child.codeHash}`);
  if (parts.length === 0) return own;
  return sha256Hex([own, ...parts.sort()].join("\0"));
}

async function visit(
  workflow: CompiledWorkflow,
  parsed: ParsedWorkflow,
  stack: string[],
  loaded: Map<string, CompiledWorkflow>,
  issues: WorkflowIssue[],
  loadOne: LoadOne,
  rootDir: string,
): Promise<void> {
  const shownFile = relative(rootDir, workflow.file) || parsed.file;
  for (const node of Object.values(workflow.nodes)) {
    const dir = node.workflow;
    if (dir === undefined) continue;
    const pos = workflowKeyPos(parsed, node.id);
    const shown = relative(workflow.dir, dir);
    if (stack.includes(dir)) {
      const names = [...stack.slice(stack.indexOf(dir)), dir].map((d) =>
        relative(rootDir, d) || "."
      );
      issues.push({
        file: shownFile,
        ...pos,
        message: `Cycle between workflows: ${names.join(" → ")}`,
        hint: `Remove the workflow: node "${node.id}" or break the cycle in one of those workflows`,
      });
      continue;
    }
    if (loaded.has(dir)) continue;
    let child: Awaited<ReturnType<LoadOne>>;
    try {
      child = await loadOne(dir);
    } catch (error) {
      if (!(error instanceof WorkflowSyntaxError)) throw error;
      issues.push({
        file: shownFile,
        ...pos,
        message: `Cannot load sub-workflow "${shown}" of node "${node.id}": ${error.message}`,
        hint: "Fix the child workflow, or point workflow: at a directory holding workflow.yaml",
      });
      continue;
    }
    loaded.set(dir, child.workflow);
    await visit(child.workflow, child.parsed, [...stack, dir], loaded, issues, loadOne, rootDir);
  }
}

function workflowKeyPos(parsed: ParsedWorkflow, id: string): { line: number; column: number } {
  const root = parsed.root;
  const nodes = root?.kind === "map" ? entryOf(root, "nodes")?.value : undefined;
  const node = nodes?.kind === "map" ? entryOf(nodes, id)?.value : undefined;
  const value = node?.kind === "map" ? entryOf(node, "workflow")?.value : undefined;
  return value?.pos ?? node?.pos ?? { line: 1, column: 1 };
}
