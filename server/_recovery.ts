/**
 * Recovery: claims the unfinished runs of the workflow left by a process that died (or a
 * replica whose lease expired), resumes the running ones and requeues the waiting ones.
 *
 * @module
 */

import { RunStatus } from "../engine/mod.ts";
import type { ManagerCore } from "./_manager_core.ts";
import { summaryOf } from "./_run_hub.ts";
import type { Job } from "./_managed_run.ts";

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
      c.launch({ workflow, record: run, resume: run }, false);
      resumed++;
    } else {
      const job: Job = { workflow, record: run };
      // A queued retry still reuses the outputs of the run it retries.
      const of = run.retryOf === undefined ? undefined : await c.store.getRun(run.retryOf);
      if (of) job.retry = { of, workflow, ...(run.retryFrom ? { from: run.retryFrom } : {}) };
      c.queue.push({ id: run.runId, readyAt: c.clock.now(), value: job });
      c.hub.publish(run.runId, { type: "run", record: summaryOf(run) });
      requeued++;
    }
  }
  c.pump();
  return { resumed, requeued };
}
