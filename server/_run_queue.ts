/**
 * The wait list of one workflow with prunner's scheduling rules (SPEC §2 `concurrency`):
 * `maxRuns` at once, up to `queueLimit` waiting, strategy `append` (FIFO) or `replace` (a new run
 * takes the place of the newest waiting one), and a `startDelay` every run waits before it may
 * start. Pure bookkeeping: no I/O, no timers; the run manager acts on its answers.
 *
 * @module
 */

import type { ConcurrencySettings } from "../engine/mod.ts";

/** What to do with a new run. */
export const ScheduleAction = {
  /** Start it now. */
  Start: "start",
  /** Append it to the wait list. */
  Queue: "queue",
  /** Put it in the place of the newest waiting run, which is cancelled. */
  Replace: "replace",
  /** Reject it: the wait list is full (or disabled with `queueLimit: 0`). */
  Reject: "reject",
} as const;
/** One of {@link ScheduleAction}. */
export type ScheduleAction = typeof ScheduleAction[keyof typeof ScheduleAction];

/** One waiting run. */
export interface QueueEntry<T> {
  id: string;
  /** Its `concurrency.key` value (see `concurrencyKey`); "" without a key. @default "" */
  key?: string;
  /** Epoch ms from which the run may start (enqueue time + startDelay). */
  readyAt: number;
  value: T;
}

/**
 * Concurrency used when a workflow has no `concurrency` settings (compiled workflows always
 * have them; hand-built ones may not): effectively unlimited.
 */
export const UNLIMITED_CONCURRENCY: Readonly<ConcurrencySettings> = {
  maxRuns: 100,
  queueLimit: 1000,
  strategy: "append",
  startDelayMs: 0,
};

/** Runs executing now: in all, and per `concurrency.key` value. */
export interface RunningCounts {
  total: number;
  byKey(key: string): number;
}

/** Counts with no key in use: `total` runs, all of key "". */
export function countsOf(total: number): RunningCounts {
  return { total, byKey: () => total };
}

/**
 * The wait list; entries keep their arrival order. With `concurrency.key` the limits apply per
 * key value (prunner's partitioned wait lists): `maxRuns`, `queueLimit`, `strategy` and
 * `startDelay` per key, `maxRunsTotal` over all keys, and a free slot goes to the waiting key
 * that started a run least recently, so one busy key cannot starve the others.
 */
export class RunQueue<T> {
  settings: ConcurrencySettings;
  #entries: QueueEntry<T>[] = [];
  /** When each key last started a run (a sequence number): the least recent goes first. */
  #started = new Map<string, number>();
  #seq = 0;

  constructor(settings: ConcurrencySettings | undefined) {
    this.settings = settings ?? UNLIMITED_CONCURRENCY;
  }

  /** Waiting runs. */
  get size(): number {
    return this.#entries.length;
  }

  /** Ids of the waiting runs, oldest first. */
  ids(): string[] {
    return this.#entries.map((e) => e.id);
  }

  /** The waiting entries' values, oldest first. */
  values(): T[] {
    return this.#entries.map((e) => e.value);
  }

  /** Whether `id` is waiting. */
  has(id: string): boolean {
    return this.#entries.some((e) => e.id === id);
  }

  /**
   * prunner's decision for a new run of `key` while `running` runs execute: start at once when
   * a slot is free (of its key, and in all), nobody of its key waits and there is no start
   * delay; otherwise wait, unless `queueLimit` is 0 (reject); with `replace` and someone of its
   * key waiting, replace; a full wait list (of its key) rejects.
   */
  decide(running: RunningCounts | number, key = ""): ScheduleAction {
    const counts = typeof running === "number" ? countsOf(running) : running;
    const { maxRuns, queueLimit, strategy, startDelayMs } = this.settings;
    const keyed = this.settings.key !== undefined;
    const waiting = keyed
      ? this.#entries.filter((e) => (e.key ?? "") === key).length
      : this.#entries.length;
    const runningKey = keyed ? counts.byKey(key) : counts.total;
    if (runningKey < maxRuns && this.#totalFree(counts) && startDelayMs <= 0 && waiting === 0) {
      if (keyed) this.#started.set(key, ++this.#seq);
      return ScheduleAction.Start;
    }
    if (queueLimit <= 0) return ScheduleAction.Reject;
    if (strategy === "replace" && waiting > 0) return ScheduleAction.Replace;
    if (waiting >= queueLimit) return ScheduleAction.Reject;
    return ScheduleAction.Queue;
  }

  /** Whether another run may start at all (below `maxRuns`, or `maxRunsTotal` with a key). */
  mayStart(running: RunningCounts | number): boolean {
    const counts = typeof running === "number" ? countsOf(running) : running;
    return this.settings.key === undefined
      ? counts.total < this.settings.maxRuns
      : this.#totalFree(counts);
  }

  #totalFree(counts: RunningCounts): boolean {
    const { key, maxRunsTotal } = this.settings;
    return key === undefined || maxRunsTotal === undefined || counts.total < maxRunsTotal;
  }

  /** Appends a run (recovered runs bypass `queueLimit`: they were accepted before). */
  push(entry: QueueEntry<T>): void {
    this.#entries.push(entry);
  }

  /** Puts `entry` in the place of the newest waiting run (of its key) and returns that run. */
  replaceNewest(entry: QueueEntry<T>): QueueEntry<T> {
    const key = entry.key ?? "";
    const keyed = this.settings.key !== undefined;
    let i = this.#entries.length - 1;
    while (i >= 0 && keyed && (this.#entries[i]!.key ?? "") !== key) i--;
    if (i < 0) throw new TypeError("Cannot replace a waiting run: none is waiting");
    const [replaced] = this.#entries.splice(i, 1);
    this.#entries.push(entry);
    return replaced!;
  }

  /** Removes a waiting run; undefined when it is not waiting. */
  remove(id: string): QueueEntry<T> | undefined {
    const i = this.#entries.findIndex((e) => e.id === id);
    return i < 0 ? undefined : this.#entries.splice(i, 1)[0];
  }

  /**
   * Removes and returns the run to start at `now`, if a slot is free: the oldest ready one; with
   * a key, the oldest ready one of the key that started a run least recently among the keys with
   * a free slot (so free slots rotate across the waiting keys).
   */
  takeReady(now: number, running: RunningCounts | number): QueueEntry<T> | undefined {
    const counts = typeof running === "number" ? countsOf(running) : running;
    if (!this.mayStart(counts)) return undefined;
    if (this.settings.key === undefined) {
      const i = this.#entries.findIndex((e) => e.readyAt <= now);
      return i < 0 ? undefined : this.#entries.splice(i, 1)[0];
    }
    // The ready key with a free slot that started a run least recently goes first.
    let best: { key: string; index: number; started: number } | undefined;
    const seen = new Set<string>();
    for (const [index, e] of this.#entries.entries()) {
      const key = e.key ?? "";
      if (e.readyAt > now || seen.has(key)) continue;
      seen.add(key);
      if (counts.byKey(key) >= this.settings.maxRuns) continue;
      const started = this.#started.get(key) ?? -1;
      if (!best || started < best.started) best = { key, index, started };
    }
    if (!best) return undefined;
    this.#started.set(best.key, ++this.#seq);
    return this.#entries.splice(best.index, 1)[0];
  }

  /** The earliest `readyAt` of the waiting runs; undefined when none waits. */
  nextReadyAt(): number | undefined {
    let next: number | undefined;
    for (const e of this.#entries) if (next === undefined || e.readyAt < next) next = e.readyAt;
    return next;
  }

  /** Removes and returns every waiting run, oldest first. */
  clear(): QueueEntry<T>[] {
    const entries = this.#entries;
    this.#entries = [];
    return entries;
  }
}
