/**
 * The durable state of one managed run (map items, step results, waits), its writes fenced by
 * the run's lease like its record and node writes: a replica that lost the run can no longer
 * record an element, a step or a wait, and its attempts stop (the run is detached).
 *
 * @module
 */

import type { DurableState } from "../engine/mod.ts";
import { LeaseLostError, type RunStore } from "../store/mod.ts";
import type { HookedRun } from "./_run_hooks.ts";

/** `store`'s durable state for `run`, its writes fenced by `run.lease` (when it has one). */
export function fencedState(store: RunStore, run: HookedRun): DurableState {
  const fenced = async <T>(write: Promise<T>): Promise<T> => {
    try {
      return await write;
    } catch (error) {
      if (error instanceof LeaseLostError && !run.detached) {
        run.detached = true;
        run.onLeaseLost?.(error);
      }
      throw error;
    }
  };
  return {
    putMapItem: (runId, nodeId, item) => fenced(store.putMapItem(runId, nodeId, item, run.lease)),
    listMapItems: (...a) => store.listMapItems(...a),
    getStep: (...a) => store.getStep(...a),
    putStep: (runId, key, name, value) => fenced(store.putStep(runId, key, name, value, run.lease)),
    putWait: (runId, nodeId, wait) => fenced(store.putWait(runId, nodeId, wait, run.lease)),
    listWaits: (...a) => store.listWaits(...a),
    listDueWaits: (...a) => store.listDueWaits(...a),
    resolveWait: (runId, nodeId, resolution) =>
      fenced(store.resolveWait(runId, nodeId, resolution, run.lease)),
  };
}
