/**
 * Runs a queue consumer did not start but must count against its `maxConcurrency`: queue runs
 * the run manager resumed after a restart or took over from a dead replica. With several queue
 * triggers each one counts all of them (the run record does not name its subject): safe, and
 * exact for the usual single trigger.
 *
 * @module
 */

import type { QueueRuns } from "./_queue_types.ts";

/** The adopted queue runs still unfinished in this process. */
export function adoptedRuns(runs: QueueRuns): string[] {
  return runs.adoptedRuns?.("queue") ?? [];
}

/** Settles when one of `runIds` ends (never when the list is empty). */
export function oneEnded(runs: QueueRuns, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return new Promise(() => {});
  return Promise.race(runIds.map((id) => runs.wait(id).then(() => {}, () => {})));
}
