/**
 * Parked runs on this replica (SPEC §10): waking a run that a resolved wait queued again, and
 * ending the waiting nodes of a parked run that is cancelled.
 *
 * @module
 */

import { iso, NodeStatus, type RunRecord, RunStatus } from "../engine/mod.ts";
import type { ManagerCore } from "./_manager_core.ts";
import type { RunStore } from "../store/mod.ts";
import { summaryOf } from "./_run_hub.ts";
import {
  deliverEvent,
  parkedChildren,
  requeueAncestors,
  TIMER_POLL_MS,
  WaitTimers,
} from "./_durable_runs.ts";

/**
 * The stored timers of parked runs, polled once started; a run that a resolved wait queued
 * again while it was still running here is woken too.
 */
export function parkedRunTimers(c: ManagerCore, pollMs = TIMER_POLL_MS): WaitTimers {
  c.onRequeued = (runId) => void wakeRun(c, runId, "a wait resolved while it was running");
  return new WaitTimers({
    store: c.store,
    clock: c.clock,
    pollMs,
    onFired: (wait) => wakeRun(c, wait.runId, `timer of node "${wait.nodeId}" fired`),
    onError: c.onError,
    afterTick: () => wakeQueued(c),
  });
}

/**
 * Wakes the parked runs of this workflow that another process queued again without waking
 * them (`pipedreamer runs signal` on the store, a replica that stopped before it woke one):
 * queued, unclaimed, with a waiting node. One indexed query per poll.
 */
export async function wakeQueued(c: ManagerCore): Promise<void> {
  if (c.draining || c.closed) return;
  for (const run of await c.store.listClaimable({ workflow: c.workflow.name })) {
    if (run.status !== RunStatus.Queued || run.parentRunId !== undefined) continue;
    if (c.active.has(run.runId) || c.queue.has(run.runId)) continue;
    const record = await c.store.getRun(run.runId);
    if (!record || !Object.values(record.nodes).some((n) => n.status === NodeStatus.Waiting)) {
      continue;
    }
    await wakeRun(c, run.runId, await wakeReason(c.store, record));
  }
}

/**
 * Why a parked run was queued again, as the replica that resolved its wait says it (the poll of
 * another replica may wake it first): its timer fired, its event arrived, or its child woke.
 */
async function wakeReason(store: RunStore, record: RunRecord, depth = 0): Promise<string> {
  for (const wait of await store.listWaits(record.runId)) {
    const { resolution, nodeId } = wait;
    if (!resolution || record.nodes[nodeId]?.status !== NodeStatus.Waiting) continue;
    return resolution.kind === "due"
      ? `timer of node "${nodeId}" fired`
      : `event "${resolution.event}" delivered to node "${nodeId}"`;
  }
  for (const [nodeId, node] of Object.entries(record.nodes)) {
    if (node.status !== NodeStatus.Waiting) continue;
    for (
      const child of depth < 100 ? await parkedChildren(store, record.runId, nodeId, node) : []
    ) {
      const woke = await store.getRun(child);
      if (woke && woke.status !== RunStatus.Waiting) {
        return `its child run "${child}" woke: ${await wakeReason(store, woke, depth + 1)}`;
      }
    }
  }
  return "a wait resolved in another process";
}

/** `RunManager.signal()`: delivers the event, then wakes the run here (or another replica does). */
export async function signalRun(
  c: ManagerCore,
  runId: string,
  event: string,
  payload: unknown,
): Promise<RunRecord> {
  const node = await deliverEvent(c.store, runId, event, payload);
  await wakeRun(c, runId, `event "${event}" delivered to node "${node}"`);
  return (await c.store.getRun(runId))!;
}

/**
 * Resumes a run that a resolved wait queued again: claims its lease and puts it on the wait
 * list (it needs a `maxRuns` slot again). Nothing happens when another replica claimed it first.
 */
export async function wakeRun(c: ManagerCore, woken: string, why: string): Promise<void> {
  if (c.draining || c.closed) return;
  // A child run is resumed by its parent's node: wake the root run instead.
  const runId = await requeueAncestors(c.store, woken);
  if (runId !== woken) why = `its child run "${woken}" woke: ${why}`;
  await c.exclusive(async () => {
    if (c.active.has(runId) || c.queue.has(runId)) return;
    const found = await c.store.getRun(runId);
    if (!found || found.status !== RunStatus.Queued || found.workflow !== c.workflow.name) return;
    const lease = await c.store.claimLease(runId, c.owner, c.leaseMs);
    if (!lease) return;
    // Read after the claim: every write of a previous owner is in (later ones are refused).
    const run = await c.store.getRun(runId);
    if (!run || run.status !== RunStatus.Queued) {
      await c.store.releaseLease(runId, lease);
      return;
    }
    c.own(runId, lease);
    await c.store.appendLogs(runId, [{
      ts: iso(c.clock.now()),
      level: "info",
      msg: `Run woken on "${c.owner}": ${why}`,
      runId,
    }], lease);
    const job = { workflow: c.workflow, record: run, resume: run, lease };
    c.queue.push({ id: runId, readyAt: c.clock.now(), value: job });
    c.hub.publish(runId, { type: "run", record: summaryOf(run) });
    c.pump();
  });
}

/** A cancelled parked run: its waiting nodes end cancelled too (a later timer or event finds it over). */
export async function cancelParkedNodes(
  store: RunStore,
  record: RunRecord,
  now: number,
  depth = 0,
): Promise<void> {
  for (const [nodeId, node] of Object.entries(record.nodes)) {
    if (node.status !== "waiting") continue;
    // Its parked child runs are cancelled with it (SPEC §9).
    const children = depth < 100 ? await parkedChildren(store, record.runId, nodeId, node) : [];
    for (const childId of children) {
      const child = await store.getRun(childId);
      // Parked, or queued again by its own wait (only its parent's node would resume it).
      if (!child || (child.status !== RunStatus.Waiting && child.status !== RunStatus.Queued)) {
        continue;
      }
      await store.updateRun(childId, { status: RunStatus.Cancelled, finishedAt: iso(now) });
      await cancelParkedNodes(store, child, now, depth + 1);
    }
    const { waitingFor: _waitingFor, ...rest } = node;
    await store.updateNode(record.runId, nodeId, {
      ...rest,
      status: "cancelled",
      finishedAt: iso(now),
      error: { message: `Cannot complete node "${nodeId}": the run was cancelled` },
    });
  }
}

/**
 * Once the execution of `runId` here settled: true when it ended parked, i.e. `waiting`, or
 * `queued` again by a wait that resolved while it parked.
 */
export async function endedParked(c: ManagerCore, runId: string): Promise<boolean> {
  await c.executions.get(runId);
  const status = (await c.store.getRun(runId))?.status;
  return status === RunStatus.Waiting || status === RunStatus.Queued;
}
