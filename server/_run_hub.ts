/**
 * Fan-out of run events to subscribers of one run or of every run ("*"), in publish order.
 *
 * @module
 */

import type { NodeRecord, RunRecord } from "../engine/mod.ts";
import type { RunSummary, StoredLogLine } from "../store/mod.ts";

/** A change of a run, pushed to subscribers after it is persisted, in order per run. */
export type RunEvent =
  /** A run-level change: created (queued), started, finished. */
  | { type: "run"; record: RunSummary }
  /** A node transition or progress report. */
  | { type: "node"; runId: string; nodeId: string; node: NodeRecord }
  /** A log line with its per-run sequence number. */
  | { type: "log"; line: StoredLogLine }
  /** The run is over; the final record. */
  | { type: "end"; record: RunRecord };

/** A subscriber; it must not throw (a throw is reported, never propagated). */
export type RunListener = (event: RunEvent) => void;

/** The record without its node records. */
export function summaryOf(record: RunRecord): RunSummary {
  const { nodes: _nodes, ...summary } = record;
  return structuredClone(summary);
}

/** Subscribers by run id; "*" receives every run's events after the run's own subscribers. */
export class RunHub {
  readonly #listeners = new Map<string, Set<RunListener>>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  subscribe(runId: string, listener: RunListener): () => void {
    let set = this.#listeners.get(runId);
    if (!set) this.#listeners.set(runId, set = new Set());
    // Wrapped so that subscribing one function twice gives two independent subscriptions.
    const entry: RunListener = (event) => listener(event);
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.#listeners.get(runId) === set) this.#listeners.delete(runId);
    };
  }

  /**
   * Whether anyone listens to `runId` (directly or through "*"): publishers skip building
   * (cloning) events nobody receives.
   */
  listening(runId: string): boolean {
    return this.#listeners.has(runId) || this.#listeners.has("*");
  }

  publish(runId: string, event: RunEvent): void {
    this.#deliver(this.#listeners.get(runId), event);
    this.#deliver(this.#listeners.get("*"), event);
  }

  #deliver(set: Set<RunListener> | undefined, event: RunEvent): void {
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        this.#onError(
          new Error(`Cannot deliver a run event: a subscriber threw`, { cause: error }),
        );
      }
    }
  }
}
