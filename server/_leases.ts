/**
 * Run leases: renewing the leases of the runs this replica owns, reacting to a lost lease
 * (cancelled elsewhere, or taken over), periodic recovery rescans, and releasing the leases of
 * waiting runs on drain.
 *
 * @module
 */

import { isFinishedStatus, RunStatus } from "../engine/mod.ts";
import { LeaseLostError } from "../store/mod.ts";
import { DrainingError } from "./errors.ts";
import type { ManagerCore } from "./_manager_core.ts";
import { scanUnfinished } from "./_recovery.ts";

/**
 * Every leaseMs / 3: renew the leases of owned runs (fenced by their epoch: a run claimed
 * again by another replica is not renewable); after `recover()`, scan for lapsed leases too, so
 * a dead replica's runs are picked up within about 4/3 of a lease.
 */
export async function beatLeases(c: ManagerCore): Promise<void> {
  for (const runId of [...c.owned]) {
    const now = c.clock.now();
    if (await c.store.renewLease(runId, c.owner, c.leaseMs, c.leaseOf(runId)?.epoch)) {
      const active = c.active.get(runId);
      if (active) active.leaseFreshAt = now;
      continue;
    }
    // A run that just ended here is no longer renewable: nothing was lost.
    if (c.owned.has(runId) && !c.active.get(runId)?.ended) await leaseLost(c, runId);
  }
  if (c.scanning && c.clock.now() - c.lastScan >= c.leaseMs / 3) {
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
    if (cancelled) {
      active.controller.abort(new DOMException("The run was cancelled", "AbortError"));
    } else if (!active.detached) {
      active.detached = true;
      // Aborts the attempts and reports the takeover (see ManagerCore.launch).
      active.onLeaseLost?.(new LeaseLostError(runId, c.owner));
      return;
    } else {
      return;
    }
  }
  if (c.queue.remove(runId)) {
    c.disown(runId);
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
    const lease = c.leaseOf(entry.id);
    c.disown(entry.id);
    c.settle(
      entry.id,
      new DrainingError(
        `Cannot wait for run "${entry.id}": the server is shutting down; the run stays queued and starts after the restart`,
      ),
    );
    // Released: the next process (any owner id) claims the run at once.
    if (lease) await c.store.releaseLease(entry.id, lease).catch(c.onError);
    else await c.store.claimRun(entry.id, c.owner, 1).catch(c.onError);
  }
}
