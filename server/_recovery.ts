/**
 * Recovery: claims the unfinished runs of the workflow left by a process that died (or a
 * replica whose lease expired), resumes the running ones and requeues the waiting ones.
 *
 * @module
 */

import { NodeStatus, type RunRecord, RunStatus } from "../engine/mod.ts";
import type { ManagerCore } from "./_manager_core.ts";
import { summaryOf } from "./_run_hub.ts";

/** Claims and picks up every unfinished run of the current workflow not held here yet. */
export async function scanUnfinished(
  c: ManagerCore,
): Promise<{ resumed: number; requeued: number }> {
  let resumed = 0;
  let requeued = 0;
  const workflow = c.workflow;
  const runs = await c.store.listUnfinished({ workflow: workflow.name });
  for (const run of runs) {
    if (c.draining || c.closed) break;
    if (c.active.has(run.runId) || c.queue.has(run.runId)) continue;
    if (!(await c.store.claimRun(run.runId, c.owner, c.leaseMs))) continue;
    c.own(run.runId);
    if (run.status === RunStatus.Running) {
      await countInterruptions(c, run);
      c.launch({ workflow, record: run, resume: run }, false);
      resumed++;
    } else {
      const job = { workflow, record: run };
      c.queue.push({ id: run.runId, readyAt: c.clock.now(), value: job });
      c.hub.publish(run.runId, { type: "run", record: summaryOf(run) });
      requeued++;
    }
  }
  c.pump();
  return { resumed, requeued };
}

/**
 * The engine stopped while `run` was running: each node it was running counts one more
 * interruption, persisted in the node's record before the run resumes (the executor fails a
 * node at MAX_INTERRUPTIONS instead of running it again).
 */
async function countInterruptions(c: ManagerCore, run: RunRecord): Promise<void> {
  for (const [id, node] of Object.entries(run.nodes)) {
    if (node.status !== NodeStatus.Running) continue;
    node.interruptions = (node.interruptions ?? 0) + 1;
    await c.store.updateNode(run.runId, id, node);
  }
}
