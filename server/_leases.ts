/**
 * Run leases: renewing the leases of the runs this replica owns, reacting to a lost lease
 * (cancelled elsewhere, or taken over), periodic recovery rescans, and releasing the leases of
 * waiting runs on drain.
 *
 * @module
 */

import { isFinishedStatus, RunStatus } from "../engine/mod.ts";
import { DrainingError } from "./errors.ts";
import type { ManagerCore } from "./_manager_core.ts";
import { scanUnfinished } from "./_recovery.ts";

/** Every leaseMs / 3: renew the leases of owned runs; after `recover()`, rescan every leaseMs. */
export async function beatLeases(c: ManagerCore): Promise<void> {
  for (const runId of [...c.owned]) {
    if (await c.store.renewLease(runId, c.owner, c.leaseMs)) continue;
    // A run that just ended here is no longer renewable: nothing was lost.
    if (c.owned.has(runId) && !c.active.get(runId)?.ended) await leaseLost(c, runId);
  }
  if (c.scanning && c.clock.now() - c.lastScan >= c.leaseMs) {
    c.lastScan = c.clock.now();
    await c.exclusive(() => scanUnfinished(c));
  }
}

async function leaseLost(c: ManagerCore, runId: string): Promise<void> {
  const record = await c.store.getRun(runId);
  const active = c.active.get(runId);
  if (active?.ended || !c.owned.has(runId)) return;
  // Cancelled in the store (by another replica's cancel()): abort here; this executor then
  // records the cancellation of its nodes. Otherwise another replica took the run over
  // (this one could not renew in time): stop without writing anything more.
  const cancelled = record?.status === RunStatus.Cancelled;
  if (active) {
    if (!cancelled) active.detached = true;
    active.controller.abort(
      new DOMException(
        cancelled ? "The run was cancelled" : "The run was taken over",
        "AbortError",
      ),
    );
  }
  if (c.queue.remove(runId)) {
    c.owned.delete(runId);
    if (record && isFinishedStatus(record.status)) c.hub.publish(runId, { type: "end", record });
    c.settle(runId, record ?? new Error(`Cannot find run "${runId}"`));
    c.pump();
  }
  if (!cancelled) {
    c.onError(
      new Error(`Cannot renew the lease of run "${runId}": another replica took it over`),
    );
  }
}

/** Drain: waiting runs leave this manager but stay queued in the store, lease released. */
export async function releaseWaiting(c: ManagerCore): Promise<void> {
  for (const entry of c.queue.clear()) {
    c.owned.delete(entry.id);
    c.settle(
      entry.id,
      new DrainingError(
        `Cannot wait for run "${entry.id}": the server is shutting down; the run stays queued and starts after the restart`,
      ),
    );
    // A 1 ms lease lets the next process (any owner id) claim the run at once.
    await c.store.claimRun(entry.id, c.owner, 1).catch(c.onError);
  }
}
