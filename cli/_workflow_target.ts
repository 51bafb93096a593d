/**
 * Resolves the `[dir][/<node>]` argument of `test`: a directory holding workflow.yaml, or such
 * a directory followed by one node id.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/** A workflow directory and, optionally, one node in it. */
export interface WorkflowTarget {
  dir: string;
  node?: string;
}

/** `examples/hn-digest` → the directory; `examples/hn-digest/fetch-top` → dir + node. */
export async function resolveWorkflowTarget(arg: string): Promise<WorkflowTarget> {
  if (await isFile(join(arg, "workflow.yaml"))) return { dir: arg };
  const parent = dirname(arg);
  if (await isFile(join(parent, "workflow.yaml"))) return { dir: parent, node: basename(arg) };
  // Neither: let loadWorkflow() report the missing workflow.yaml for the directory itself.
  return { dir: arg };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}
