/**
 * The stop and failure state of a run, in one owner: the first node failure, whether the run
 * was cancelled, and whether (and why) the DAG is stopping.
 *
 * @module
 */

import type { RunNodes, Slot } from "./_run_nodes.ts";
import { FailureKind, NodeFailure } from "../errors.ts";

/** Why nodes end cancelled when the run's signal aborts. */
export const CANCELLED = "the run was cancelled";

/** The first node that failed the run, as `RunRecord.error` shows it. */
export interface RunFailure {
  node: string;
  message: string;
}

/** Decides when a run stops and how it ended; the only writer of those flags. */
export class RunStop {
  private readonly controller = new AbortController();
  private stopped = false;
  private reasonText = "";
  private wasCancelled = false;
  private firstFailure: RunFailure | undefined = undefined;

  constructor(private readonly nodes: RunNodes, private readonly failFast: boolean) {}

  /** Aborted when the DAG stops (fail-fast, cancellation, hook failure): ends backoff sleeps. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Nothing new starts once this is true. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Message for nodes cancelled by the stop, e.g. `the run was cancelled`. */
  get why(): string {
    return this.reasonText;
  }

  /** The run's signal aborted. */
  get cancelled(): boolean {
    return this.wasCancelled;
  }

  /** The first final failure of a node without `allowFailure`. */
  get failure(): RunFailure | undefined {
    return this.firstFailure;
  }

  /** The run's signal aborted: stop with `reason`, nodes end cancelled. */
  cancel(reason: unknown): void {
    this.wasCancelled = true;
    this.stop(reason, CANCELLED);
  }

  /** The onError node is cancelled by the run's signal (the DAG has already ended). */
  cancelOnError(): void {
    this.reasonText = CANCELLED;
  }

  /** Records the final failure of `slot` (the first one is kept) and stops when fail-fast. */
  nodeFailed(slot: Slot, message: string): void {
    this.firstFailure ??= { node: slot.id, message };
    if (this.failFast) {
      this.stop(
        new DOMException(`Run failed at node "${slot.id}"`, "AbortError"),
        `the run failed at node "${slot.id}"`,
      );
    }
  }

  /**
   * Stops the DAG: nothing new starts, backoff sleeps end, and every attempt in flight is
   * aborted with `reason` and settles at once as cancelled, whether or not its runner reacts.
   */
  stop(reason: unknown, why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reasonText = why;
    this.controller.abort(reason);
    this.nodes.abortAll(
      reason,
      (slot) =>
        new NodeFailure(`Cannot complete node "${slot.id}": ${why}`, {
          kind: FailureKind.Cancelled,
          cause: reason,
        }),
    );
  }
}
