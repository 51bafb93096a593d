/**
 * Recovery: claims the unfinished runs of the workflow left by a process that died (or a
 * replica whose lease lapsed), resumes the running ones and requeues the waiting ones.
 *
 * @module
 */

import { NodeStatus, type RunRecord, RunStatus } from "../engine/mod.ts";
import type { ManagerCore } from "./_manager_core.ts";
import type { Lease } from "../store/mod.ts";
import { summaryOf } from "./_run_hub.ts";
import type { Job } from "./_managed_run.ts";

/**
 * Claims and picks up every unfinished run of the current workflow not held here yet: only
 * those without a live lease, or (with `force`, for the one process holding a SQLite store)
 * all of them. Each claim increments the run's lease epoch, fencing off its previous owner.
 */
export async function scanUnfinished(
  c: ManagerCore,
  options: { force?: boolean } = {},
): Promise<{ resumed: number; requeued: number }> {
  let resumed = 0;
  let requeued = 0;
  const workflow = c.workflow;
  const force = options.force === true;
  const runs = force
    ? await c.store.listUnfinished({ workflow: workflow.name })
    : await c.store.listClaimable({ workflow: workflow.name });
  for (const run of runs) {
    if (c.draining || c.closed) break;
    if (c.active.has(run.runId) || c.queue.has(run.runId)) continue;
    // A child run is resumed by its parent's node, never on its own.
    if (run.parentRunId !== undefined) continue;
    const lease = await c.store.claimLease(run.runId, c.owner, c.leaseMs, { force });
    if (!lease) continue;
    // Read after the claim: every write of the previous owner is in (later ones are refused).
    const record: RunRecord | undefined = await c.store.getRun(run.runId);
    if (!record || (record.status !== RunStatus.Running && record.status !== RunStatus.Queued)) {
      continue;
    }
    c.own(run.runId, lease);
    c.adopted.set(run.runId, record.trigger);
    if (record.status === RunStatus.Running) {
      await countInterruptions(c, record, lease);
      c.launch({ workflow, record, resume: record, lease }, false);
      resumed++;
    } else {
      const job: Job = { workflow, record, lease };
      // A run queued again after a wait resolved resumes from its stored nodes.
      const parked = Object.values(record.nodes).some((n) => n.status === NodeStatus.Waiting);
      // A queued retry still reuses the outputs of the run it retries.
      const of = parked || record.retryOf === undefined
        ? undefined
        : await c.store.getRun(record.retryOf);
      if (parked) job.resume = record;
      else if (of) {
        job.retry = { of, workflow, ...(record.retryFrom ? { from: record.retryFrom } : {}) };
      }
      c.queue.push({ id: run.runId, readyAt: c.clock.now(), value: job });
      c.hub.publish(run.runId, { type: "run", record: summaryOf(record) });
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
async function countInterruptions(
  c: ManagerCore,
  run: RunRecord,
  lease: Lease,
): Promise<void> {
  for (const [id, node] of Object.entries(run.nodes)) {
    if (node.status !== NodeStatus.Running) continue;
    node.interruptions = (node.interruptions ?? 0) + 1;
    await c.store.updateNode(run.runId, id, node, lease);
  }
}
