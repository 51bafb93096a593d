/**
 * Where the workflows of a tree (a workflow and every sub-workflow its `workflow:` nodes reach)
 * go inside one deployable bundle: the top workflow at the bundle's root, each sub-workflow in
 * `_workflows/<key>/` (key = its directory relative to the project root, `/` → `.`), and the
 * `workflow:` values rewritten to point there. Nothing can point outside the bundle: every
 * sub-workflow must lie inside the project root, the directory that holds the top workflow's
 * directory (so `../other` and `./child` bundle, `../../elsewhere` is an error).
 *
 * @module
 */

import { basename, dirname, isAbsolute, relative, sep } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { type CompiledWorkflow, type WorkflowIssue, WorkflowSyntaxError } from "../engine/mod.ts";

/** The bundle directory that holds the sub-workflows. */
export const SUB_WORKFLOWS_DIR = "_workflows";

/** One workflow of a tree, placed in the bundle. */
export interface PlacedWorkflow {
  workflow: CompiledWorkflow;
  /** `""` for the top workflow, else `_workflows/<key>/`. */
  prefix: string;
  /** Sub-workflow node id → its `workflow:` value in the bundle (relative to this workflow). */
  workflowPaths: Record<string, string>;
}

const KEY = /^[-_a-zA-Z0-9][-._a-zA-Z0-9]{0,99}$/;

/**
 * Places `top` and its sub-workflows (in a stable order: the top first, then by key).
 *
 * @throws {WorkflowSyntaxError} at the `workflow:` value (file:line:column) of every node whose
 *   workflow lies outside the project root
 * @throws {RangeError} when a sub-workflow's directory name cannot be a bundle path
 */
export async function placeWorkflows(top: CompiledWorkflow): Promise<PlacedWorkflow[]> {
  const children = Object.values(top.subWorkflows ?? {}).filter((w) => w.dir !== top.dir);
  if (children.length === 0) return [{ workflow: top, prefix: "", workflowPaths: {} }];
  const root = dirname(top.dir);
  const issues: WorkflowIssue[] = [];
  const keys = new Map<string, string>([[top.dir, ""]]);
  for (const child of children) {
    const rel = relative(root, child.dir);
    if (rel.startsWith("..") || isAbsolute(rel)) continue; // reported at the node below
    const key = rel === "" ? basename(root) : rel.split(sep).join(".");
    if (!KEY.test(key)) {
      throw new RangeError(
        `Cannot bundle sub-workflow "${child.dir}": its path "${rel}" gives the bundle directory ` +
          `"${key}"; use letters, digits, "-", "_" and "." in directory names`,
      );
    }
    const taken = [...keys].find(([, k]) => k === key);
    if (taken) {
      throw new RangeError(
        `Cannot bundle sub-workflows "${taken[0]}" and "${child.dir}": both would go to ` +
          `${SUB_WORKFLOWS_DIR}/${key}/; rename one of their directories`,
      );
    }
    keys.set(child.dir, key);
  }
  const placed: PlacedWorkflow[] = [];
  for (const workflow of [top, ...children]) {
    const key = keys.get(workflow.dir);
    if (key === undefined) continue;
    const prefix = key === "" ? "" : `${SUB_WORKFLOWS_DIR}/${key}/`;
    const workflowPaths: Record<string, string> = {};
    for (const node of Object.values(workflow.nodes)) {
      if (node.workflow === undefined) continue;
      const target = keys.get(node.workflow);
      if (target === undefined) {
        issues.push(await outsideRoot(top, workflow, node.id, root));
        continue;
      }
      workflowPaths[node.id] = target === ""
        ? (prefix === "" ? "." : "../..")
        : prefix === ""
        ? `./${SUB_WORKFLOWS_DIR}/${target}`
        : `../${target}`;
    }
    placed.push({ workflow, prefix, workflowPaths });
  }
  if (issues.length > 0) throw new WorkflowSyntaxError(issues);
  return [placed[0]!, ...placed.slice(1).sort((a, b) => a.prefix.localeCompare(b.prefix))];
}

async function outsideRoot(
  top: CompiledWorkflow,
  workflow: CompiledWorkflow,
  id: string,
  root: string,
): Promise<WorkflowIssue> {
  const text = await Deno.readTextFile(workflow.file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const value = doc.getIn(["nodes", id, "workflow"], true) as { range?: number[] } | undefined;
  const pos = lineCounter.linePos(value?.range?.[0] ?? 0);
  return {
    file: relative(top.dir, workflow.file) || basename(workflow.file),
    line: pos.line,
    column: pos.col,
    message: `Cannot bundle the sub-workflow of node "${id}": "${
      workflow.nodes[id]!.workflow
    }" is outside the project root "${root}"`,
    hint: "build and deploy bundle only workflows inside the directory that holds the workflow's " +
      "own directory; move the sub-workflow there (e.g. workflow: ../other)",
  };
}
