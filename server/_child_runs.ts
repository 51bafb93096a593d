/**
 * Child runs of sub-workflow nodes in dev/serve (SPEC §9): each is a stored run of the child
 * workflow with `parentRunId` / `parentNode`, executed here with the same persisting hooks as
 * any run (no `maxRuns` slot of its own: its parent holds one). A resumed parent finds its
 * child by id: a finished child is reused, an unfinished one resumes from its stored nodes.
 *
 * @module
 */

import {
  type ChildRunRequest,
  isFinishedStatus,
  iso,
  type RunRecord,
  RunStatus,
} from "../engine/mod.ts";
import { handOverParked } from "./_durable_runs.ts";
import { activeRun, executeManaged, type RunDeps } from "./_managed_run.ts";
import type { Lease } from "../store/mod.ts";

/**
 * Runs, resumes or returns the finished child run of `request`. A child that parks at a sleep
 * or wait is handed over like any parked run (no lease; resumed again at once when one of its
 * waits resolved meanwhile) and returned `waiting`: its parent node then parks with it.
 */
export async function runChildRun(deps: RunDeps, request: ChildRunRequest): Promise<RunRecord> {
  for (;;) {
    const { record, lease } = await executeChild(deps, request);
    if (record.status !== RunStatus.Waiting || !lease) return record;
    if (!(await handOverParked(deps.store, lease, record))) return record;
  }
}

async function executeChild(
  deps: RunDeps,
  request: ChildRunRequest,
): Promise<{ record: RunRecord; lease?: Lease }> {
  const { store } = deps;
  const { workflow, runId } = request;
  let existing = await store.getRun(runId);
  let lease: Lease | undefined;
  // Finished, or still parked (its wait has not resolved): nothing to execute.
  if (existing && (isFinishedStatus(existing.status) || existing.status === RunStatus.Waiting)) {
    return { record: existing };
  }
  if (!existing) {
    const record: RunRecord = {
      runId,
      workflow: workflow.name,
      version: workflow.version,
      status: "running",
      input: request.input,
      startedAt: iso(deps.clock.now()),
      nodes: {},
      trigger: "workflow",
      codeHash: workflow.codeHash,
      parentRunId: request.parentRunId,
      parentNode: request.parentNode,
    };
    const created = await store.createRun(record, { owner: deps.owner, leaseMs: deps.leaseMs });
    existing = created.created ? undefined : created.record;
    lease = created.lease;
  }
  // A resumed child (or one created by a concurrent resume) is claimed like any resumed run.
  lease ??= await store.claimLease(runId, deps.owner, deps.leaseMs, { force: true });
  if (existing) existing = await store.getRun(runId) ?? existing;
  const job = existing && Object.keys(existing.nodes).length > 0
    ? { workflow, record: existing, resume: existing, lease }
    : { workflow, record: existing ?? (await store.getRun(runId))!, lease };
  const active = activeRun(job);
  const abort = () => active.controller.abort(request.signal.reason);
  if (request.signal.aborted) abort();
  request.signal.addEventListener("abort", abort, { once: true });
  try {
    // The child's own secrets (of its own project), never its parent's.
    const secrets = deps.subWorkflowSecrets[workflow.dir] ?? {};
    return {
      record: await executeManaged({ ...deps, secrets }, active, { job, claim: false }),
      lease,
    };
  } finally {
    request.signal.removeEventListener("abort", abort);
  }
}
