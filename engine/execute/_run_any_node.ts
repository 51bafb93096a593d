/**
 * Runs a node of any kind: code nodes through `runNode()`, map nodes through `runMapNode()`,
 * sleep and wait nodes through `runWaitNode()`.
 *
 * @module
 */

import type { Run } from "./_run.ts";
import type { Slot } from "./_run_nodes.ts";
import { failInterrupted, runNode } from "./_run_node.ts";
import { MAX_INTERRUPTIONS } from "../run_record.ts";
import { runMapNode } from "./_run_map.ts";
import { runWaitNode } from "./_run_wait.ts";

/** Runs `slot` to a final status, or to `waiting` (a parked sleep or wait). Never rejects. */
export function runAnyNode(run: Run, slot: Slot, stop: AbortSignal | undefined): Promise<void> {
  const { node } = slot;
  if (node.map) {
    if ((slot.rec.interruptions ?? 0) >= MAX_INTERRUPTIONS) {
      failInterrupted(run, slot);
      return Promise.resolve();
    }
    return runMapNode(run, slot, stop);
  }
  if (node.kind === "sleep" || node.kind === "wait") return runWaitNode(run, slot, stop);
  return runNode(run, slot, stop);
}
