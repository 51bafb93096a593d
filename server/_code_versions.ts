/**
 * Finds an earlier workflow version among the code snapshots (`<data>/code/<name>/`) by its
 * code hash, so that a retry executes the code its original run executed.
 *
 * @module
 */

import { join } from "node:path";
import { type CompiledWorkflow, loadWorkflow } from "../engine/mod.ts";

const SNAPSHOT_NAME = /^[0-9a-f]{24}$/;

/**
 * The snapshot under `root` whose compiled code hash is `codeHash`, or undefined when none is
 * left (snapshots that no run uses are pruned, keeping the 3 most recent). Snapshots that no
 * longer compile are passed over.
 */
export async function findSnapshotVersion(
  root: string,
  codeHash: string,
  file: string,
): Promise<CompiledWorkflow | undefined> {
  let names: string[];
  try {
    names = [];
    for await (const entry of Deno.readDir(root)) {
      if (entry.isDirectory && SNAPSHOT_NAME.test(entry.name)) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  for (const name of names.sort()) {
    try {
      const workflow = await loadWorkflow(join(root, name), { file });
      if (workflow.codeHash === codeHash) return workflow;
    } catch {
      // Removed meanwhile, or not loadable: not the version sought.
    }
  }
  return undefined;
}
