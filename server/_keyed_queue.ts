/**
 * The wait lists of one workflow partitioned by `concurrency.key` (SPEC §10, prunner's
 * partitioned wait lists): each key value has its own {@link RunQueue} with `maxRuns`,
 * `queueLimit`, `strategy` and `startDelay`; `maxRunsTotal` caps the runs of all keys together;
 * a free slot goes to the waiting keys in turn (the key served longest ago first), so one busy
 * key cannot starve the others. Without `key` there is one list (the empty key) and no total cap,
 * which is exactly the workflow-wide behaviour of SPEC §2. Pure bookkeeping: no I/O, no timers.
 *
 * @module
 */

import { concurrencyKeyOf, type ConcurrencySettings } from "../engine/mod.ts";
import { type QueueEntry, RunQueue, ScheduleAction, UNLIMITED_CONCURRENCY } from "./_run_queue.ts";

/** A waiting run with the key value it falls under. */
export interface KeyedEntry<T> extends QueueEntry<T> {
  key: string;
}

/** Partitioned wait lists plus the count of running runs per key. */
export class KeyedQueue<T> {
  #settings: ConcurrencySettings;
  readonly #inputOf: (value: T) => unknown;
  /** Wait lists of the keys that have waiting runs, least recently served first. */
  #lists = new Map<string, RunQueue<KeyedEntry<T>>>();
  /** Running (slot-holding) runs: id → key. */
  #running = new Map<string, string>();
  #runningPerKey = new Map<string, number>();

  /** @param inputOf the run input of a waiting value (its key is computed from it) */
  constructor(settings: ConcurrencySettings | undefined, inputOf: (value: T) => unknown) {
    this.#settings = settings ?? UNLIMITED_CONCURRENCY;
    this.#inputOf = inputOf;
  }

  get settings(): ConcurrencySettings {
    return this.#settings;
  }

  /**
   * New settings apply at once; when the key pointer changed, waiting runs are sorted into the
   * lists of their new key values (running ones keep counting under the key they started with).
   */
  set settings(settings: ConcurrencySettings) {
    const rekey = settings.key !== this.#settings.key;
    this.#settings = settings;
    for (const list of this.#lists.values()) list.settings = settings;
    if (rekey) { for (const entry of this.clear()) this.push(entry); }
  }

  /** The key value of a run input under the current settings. */
  keyOf(input: unknown): string {
    return concurrencyKeyOf(this.#settings, input);
  }

  /** Waiting runs of every key. */
  get size(): number {
    let n = 0;
    for (const list of this.#lists.values()) n += list.size;
    return n;
  }

  /** Waiting runs of one key. */
  waiting(key: string): number {
    return this.#lists.get(key)?.size ?? 0;
  }

  /** Running runs of one key, or of every key. */
  running(key?: string): number {
    return key === undefined ? this.#running.size : this.#runningPerKey.get(key) ?? 0;
  }

  /** Ids of the waiting runs. */
  ids(): string[] {
    return this.#entries().map((e) => e.id);
  }

  /** The waiting entries' values. */
  values(): T[] {
    return this.#entries().map((e) => e.value);
  }

  /** Whether `id` is waiting. */
  has(id: string): boolean {
    for (const list of this.#lists.values()) if (list.has(id)) return true;
    return false;
  }

  /**
   * prunner's decision for a new run of `key` (see `RunQueue.decide()`), with the key's own
   * running count; a run that could start per key but finds `maxRunsTotal` reached waits.
   */
  decide(key: string): ScheduleAction {
    const list = this.#lists.get(key) ?? new RunQueue<KeyedEntry<T>>(this.#settings);
    const action = list.decide(this.running(key));
    if (action === ScheduleAction.Start && !this.#totalFree()) {
      return this.#settings.queueLimit <= 0 ? ScheduleAction.Reject : ScheduleAction.Queue;
    }
    return action;
  }

  /** Appends a run to its key's list (recovered runs bypass `queueLimit`). */
  push(entry: QueueEntry<T>): void {
    this.#list(entry).push(this.#wrap(entry));
  }

  /** Puts `entry` in the place of the newest waiting run of its key and returns that run. */
  replaceNewest(entry: QueueEntry<T>): KeyedEntry<T> {
    return this.#list(entry).replaceNewest(this.#wrap(entry)).value;
  }

  /** Removes a waiting run; undefined when it is not waiting. */
  remove(id: string): KeyedEntry<T> | undefined {
    for (const [key, list] of this.#lists) {
      const removed = list.remove(id);
      if (!removed) continue;
      if (list.size === 0) this.#lists.delete(key);
      return removed.value;
    }
    return undefined;
  }

  /**
   * Removes and returns the next run that may start at `now`: none while `maxRunsTotal` runs
   * run; otherwise the oldest ready run of the first key, in turn order, that is below its
   * `maxRuns`. That key then goes to the end of the turn order.
   */
  takeReady(now: number): KeyedEntry<T> | undefined {
    if (!this.#totalFree()) return undefined;
    for (const [key, list] of this.#lists) {
      const taken = list.takeReady(now, this.running(key));
      if (!taken) continue;
      this.#lists.delete(key);
      if (list.size > 0) this.#lists.set(key, list); // re-inserted: last in turn
      return taken.value;
    }
    return undefined;
  }

  /**
   * The earliest time a waiting run could start on time alone (its `readyAt`), among keys with
   * a free slot; undefined when nothing could start before a running run ends.
   */
  nextReadyAt(): number | undefined {
    if (!this.#totalFree()) return undefined;
    let next: number | undefined;
    for (const [key, list] of this.#lists) {
      if (this.running(key) >= this.#settings.maxRuns) continue;
      const at = list.nextReadyAt();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /** Removes and returns every waiting run, keys in turn order, each key's oldest first. */
  clear(): KeyedEntry<T>[] {
    const entries = this.#entries();
    this.#lists.clear();
    return entries;
  }

  /** A run took a slot (started or resumed); its key is computed from `input`. */
  started(id: string, input: unknown): void {
    if (this.#running.has(id)) return;
    const key = this.keyOf(input);
    this.#running.set(id, key);
    this.#runningPerKey.set(key, this.running(key) + 1);
  }

  /** A run gave its slot back. */
  ended(id: string): void {
    const key = this.#running.get(id);
    if (key === undefined) return;
    this.#running.delete(id);
    const left = this.running(key) - 1;
    if (left > 0) this.#runningPerKey.set(key, left);
    else this.#runningPerKey.delete(key);
  }

  #totalFree(): boolean {
    const total = this.#settings.key === undefined ? undefined : this.#settings.maxRunsTotal;
    return total === undefined || this.#running.size < total;
  }

  #wrap(entry: QueueEntry<T>): QueueEntry<KeyedEntry<T>> {
    const keyed = { ...entry, key: this.keyOf(this.#inputOf(entry.value)) };
    return { id: entry.id, readyAt: entry.readyAt, value: keyed };
  }

  #list(entry: QueueEntry<T>): RunQueue<KeyedEntry<T>> {
    const key = this.keyOf(this.#inputOf(entry.value));
    let list = this.#lists.get(key);
    if (!list) this.#lists.set(key, list = new RunQueue(this.#settings));
    return list;
  }

  #entries(): KeyedEntry<T>[] {
    return [...this.#lists.values()].flatMap((list) => list.values());
  }
}
