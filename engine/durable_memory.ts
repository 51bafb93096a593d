/**
 * `createMemoryDurableState()`: the in-memory {@link DurableState} of `exec` and `test` (the
 * run stores keep the same state in their database for `dev` and `serve`).
 *
 * @module
 */

import type {
  DurableState,
  ListMapItemsOptions,
  MapItemPage,
  MapItemRecord,
  WaitRecord,
  WaitResolution,
} from "./durable_protocol.ts";

/** Options of {@link createMemoryDurableState}. */
export interface MemoryDurableStateOptions {
  /**
   * Preset `ctx.step` results (fixtures): step key (node id, or `node[index]` for a map
   * element) → step name → stored value, for every run. @default {}
   */
  steps?: Record<string, Record<string, unknown>>;
}

/**
 * A {@link DurableState} in memory, for one process. Every run id is known.
 *
 * @example
 * ```ts
 * const state = createMemoryDurableState({ steps: { charge: { "create-invoice": { id: 7 } } } });
 * await state.getStep("run-1", "charge", "create-invoice"); // { value: { id: 7 } }
 * ```
 */
export function createMemoryDurableState(options: MemoryDurableStateOptions = {}): DurableState {
  const items = new Map<string, Map<number, MapItemRecord>>();
  const steps = new Map<string, unknown>();
  const waits = new Map<string, WaitRecord>();
  const presets = options.steps ?? {};
  const clone = <T>(value: T): T => value === undefined ? value : structuredClone(value);
  return {
    putMapItem(runId, nodeId, item) {
      const key = `${runId}\0${nodeId}`;
      let map = items.get(key);
      if (!map) items.set(key, map = new Map());
      map.set(item.index, clone(item));
      return Promise.resolve(true);
    },
    listMapItems(runId, nodeId, options: ListMapItemsOptions = {}): Promise<MapItemPage> {
      const limit = options.limit ?? 100;
      const from = options.cursor === undefined ? 0 : Number(options.cursor);
      const all = [...(items.get(`${runId}\0${nodeId}`)?.values() ?? [])]
        .filter((item) =>
          item.index >= from && (!options.status?.length || options.status.includes(item.status))
        )
        .sort((a, b) => a.index - b.index);
      const page = all.slice(0, limit).map(clone);
      return Promise.resolve({
        items: page,
        nextCursor: all.length > limit ? String(all[limit]!.index) : undefined,
      });
    },
    getStep(runId, key, name) {
      const stored = `${runId}\0${key}\0${name}`;
      if (steps.has(stored)) return Promise.resolve({ value: clone(steps.get(stored)) });
      const preset = presets[key];
      if (preset && Object.hasOwn(preset, name)) {
        return Promise.resolve({ value: clone(preset[name]) });
      }
      return Promise.resolve(undefined);
    },
    async putStep(runId, key, name, value) {
      const existing = await this.getStep(runId, key, name);
      if (existing) return existing;
      steps.set(`${runId}\0${key}\0${name}`, clone(value));
      return { value: clone(value) };
    },
    putWait(runId, nodeId, wait) {
      const key = `${runId}\0${nodeId}`;
      let stored = waits.get(key);
      if (!stored) {
        stored = { runId, nodeId };
        if (wait.event !== undefined) stored.event = wait.event;
        if (wait.dueAt !== undefined) stored.dueAt = wait.dueAt;
        waits.set(key, stored);
      }
      return Promise.resolve(clone(stored));
    },
    listWaits(runId) {
      return Promise.resolve(
        [...waits.values()].filter((w) => w.runId === runId)
          .sort((a, b) => a.nodeId < b.nodeId ? -1 : 1).map(clone),
      );
    },
    listDueWaits(now, limit = 100) {
      return Promise.resolve(
        [...waits.values()].filter((w) => !w.resolution && w.dueAt !== undefined && w.dueAt <= now)
          .sort((a, b) => a.dueAt! - b.dueAt!).slice(0, limit).map(clone),
      );
    },
    resolveWait(runId, nodeId, resolution: WaitResolution) {
      const stored = waits.get(`${runId}\0${nodeId}`);
      if (!stored || stored.resolution) return Promise.resolve(false);
      stored.resolution = clone(resolution);
      return Promise.resolve(true);
    },
  };
}
