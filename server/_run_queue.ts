/**
 * The wait list of one workflow with prunner's scheduling rules (SPEC §2 `concurrency`):
 * `maxRuns` at once, up to `queueLimit` waiting, strategy `append` (FIFO) or `replace` (a new run
 * takes the place of the newest waiting one), and a `startDelay` every run waits before it may
 * start. Pure bookkeeping: no I/O, no timers; the run manager acts on its answers. With
 * `concurrency.key` there is one such list per key value (`_keyed_queue.ts`).
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

/** The wait list; entries keep their arrival order. */
export class RunQueue<T> {
  settings: ConcurrencySettings;
  #entries: QueueEntry<T>[] = [];

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
   * prunner's decision for a new run while `running` runs execute: start at once when a slot is
   * free, nobody waits and there is no start delay; otherwise wait, unless `queueLimit` is 0
   * (reject); with `replace` and someone waiting, replace; a full wait list rejects.
   */
  decide(running: number): ScheduleAction {
    const { maxRuns, queueLimit, strategy, startDelayMs } = this.settings;
    if (running < maxRuns && startDelayMs <= 0 && this.#entries.length === 0) {
      return ScheduleAction.Start;
    }
    if (queueLimit <= 0) return ScheduleAction.Reject;
    if (strategy === "replace" && this.#entries.length > 0) return ScheduleAction.Replace;
    if (this.#entries.length >= queueLimit) return ScheduleAction.Reject;
    return ScheduleAction.Queue;
  }

  /** Appends a run (recovered runs bypass `queueLimit`: they were accepted before). */
  push(entry: QueueEntry<T>): void {
    this.#entries.push(entry);
  }

  /** Puts `entry` in the place of the newest waiting run and returns that run. */
  replaceNewest(entry: QueueEntry<T>): QueueEntry<T> {
    const replaced = this.#entries.pop();
    if (!replaced) throw new TypeError("Cannot replace a waiting run: none is waiting");
    this.#entries.push(entry);
    return replaced;
  }

  /** Removes a waiting run; undefined when it is not waiting. */
  remove(id: string): QueueEntry<T> | undefined {
    const i = this.#entries.findIndex((e) => e.id === id);
    return i < 0 ? undefined : this.#entries.splice(i, 1)[0];
  }

  /** Removes and returns the oldest run that may start at `now` when a slot is free. */
  takeReady(now: number, running: number): QueueEntry<T> | undefined {
    if (running >= this.settings.maxRuns) return undefined;
    const i = this.#entries.findIndex((e) => e.readyAt <= now);
    return i < 0 ? undefined : this.#entries.splice(i, 1)[0];
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
