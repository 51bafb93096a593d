/**
 * What the executor keeps durable besides the run record (SPEC §9–10): per-element records of
 * map nodes, `ctx.step` results, and the waits of sleep and wait nodes. The run stores
 * implement {@link DurableState} in their database; `createMemoryDurableState()` keeps it in
 * memory for `exec` and `test`.
 *
 * @module
 */

import type { ErrorInfo, NodeStatus } from "./run_record.ts";

/** One element of a map node (`GET /runs/:id/nodes/:node/items`). */
export interface MapItemRecord {
  /** 0-based position in the mapped array. */
  index: number;
  status: NodeStatus;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  output?: unknown;
  error?: ErrorInfo;
  /** The element's child run, for a map over a sub-workflow. */
  childRunId?: string;
}

/** Options of {@link DurableState.listMapItems}. */
export interface ListMapItemsOptions {
  /** `nextCursor` of the previous page. @default undefined (from index 0) */
  cursor?: string;
  /** Page size, 1 to 1000. @default 100 */
  limit?: number;
  /** Only items with one of these statuses. @default undefined (every status) */
  status?: NodeStatus[];
}

/** One page of map items, in index order. */
export interface MapItemPage {
  items: MapItemRecord[];
  /** Cursor of the next page; undefined on the last page. */
  nextCursor?: string;
}

/** How a wait ended: its event arrived, or its due time passed (sleep over, or wait timed out). */
export type WaitResolution =
  | { kind: "event"; event: string; payload: unknown }
  | { kind: "due" };

/** A sleep or wait node's stored timer and/or event subscription. */
export interface WaitRecord {
  runId: string;
  nodeId: string;
  /** The event it waits for (wait nodes). */
  event?: string;
  /** Epoch ms when it is due: a sleep's end, a wait's timeout. */
  dueAt?: number;
  /** Set exactly once, by the first resolver (compare-and-set). */
  resolution?: WaitResolution;
}

/** Durable state of runs beyond their records. Unknown runs are not errors (false/undefined). */
export interface DurableState {
  /** Stores (replaces) one element's record; false for an unknown run. */
  putMapItem(runId: string, nodeId: string, item: MapItemRecord): Promise<boolean>;
  /**
   * A map node's element records in index order, one page at a time.
   * @throws {TypeError} for a malformed cursor
   * @throws {RangeError} for a limit outside 1..1000
   */
  listMapItems(runId: string, nodeId: string, options?: ListMapItemsOptions): Promise<MapItemPage>;
  /** A `ctx.step` result, or undefined when the step has not finished. */
  getStep(runId: string, key: string, name: string): Promise<{ value: unknown } | undefined>;
  /**
   * Stores a step result unless one is stored already (the first writer wins) and returns the
   * stored one. `key` is the node id (with `[index]` for a map element).
   */
  putStep(runId: string, key: string, name: string, value: unknown): Promise<{ value: unknown }>;
  /**
   * Registers a wait unless the node has one already, and returns the stored wait: a restarted
   * sleep keeps its original due time, and a resolved wait carries its resolution. Undefined
   * for an unknown run.
   */
  putWait(
    runId: string,
    nodeId: string,
    wait: { event?: string; dueAt?: number },
  ): Promise<WaitRecord | undefined>;
  /** A run's waits (resolved or not), in node id order. */
  listWaits(runId: string): Promise<WaitRecord[]>;
  /** Unresolved waits due at or before `now`, earliest first. */
  listDueWaits(now: number, limit?: number): Promise<WaitRecord[]>;
  /**
   * Resolves a wait when it is still unresolved (compare-and-set): of several concurrent
   * resolvers (an event and a timer, two replicas' timers) exactly one gets true.
   */
  resolveWait(runId: string, nodeId: string, resolution: WaitResolution): Promise<boolean>;
}
