/**
 * The hook chain of a run: every hook call (node transitions, log lines) in transition order,
 * one at a time or pipelined, and the first hook failure.
 *
 * @module
 */

import type { Slot } from "./_run_nodes.ts";
import type { LogLine, NodeRecord, RunRecord } from "../run_record.ts";

/** The executor's hooks (see `ExecuteOptions.hooks`). */
export interface ExecuteHooks {
  /** Called when the run starts and when it ends. */
  onRunUpdate?(record: RunRecord): void | Promise<void>;
  /**
   * Called on every node transition: running, retry (attempts + 1), succeeded, failed,
   * skipped, cancelled, and on progress reports. `node` is a snapshot taken at the
   * transition; `record` is the live run record.
   */
  onNodeUpdate?(
    runId: string,
    nodeId: string,
    node: NodeRecord,
    record: RunRecord,
  ): void | Promise<void>;
  /** Receives every log line, already redacted. Without it, log lines are dropped. */
  onLog?(line: LogLine): void | Promise<void>;
}

/** Serialises a run's hook calls; the only writer of the hook failure. */
export class HookChain {
  private chain: Promise<void> = Promise.resolve();
  private hasFailed = false;
  private firstError: unknown = undefined;
  private readonly onNodeUpdate: ExecuteHooks["onNodeUpdate"];

  /**
   * @param pipelined `ExecuteOptions.pipelineHooks`
   * @param beforeChildren what a finished node's children wait for: `"settled"` (every hook
   *   call so far: `ExecuteOptions.settleBeforeChildren`), `ExecuteOptions.beforeChildren`, or
   *   nothing
   * @param onFailure called once, at the first hook failure (it stops the run)
   */
  constructor(
    hooks: ExecuteHooks | undefined,
    readonly pipelined: boolean,
    private readonly beforeChildren: "settled" | (() => Promise<void>) | undefined,
    private readonly runId: string,
    private readonly record: RunRecord,
    private readonly onFailure: (error: unknown) => void,
  ) {
    this.onNodeUpdate = hooks?.onNodeUpdate;
  }

  /** A hook threw or rejected; later calls are dropped. */
  get failed(): boolean {
    return this.hasFailed;
  }

  /** The first hook error. */
  get error(): unknown {
    return this.firstError;
  }

  /** A finished node's children wait for {@link childrenMayStart}. */
  get gated(): boolean {
    return this.beforeChildren !== undefined;
  }

  /**
   * Resolves once a node that just ended may start its children (never rejects: a failure of
   * `beforeChildren` stops the run first).
   */
  childrenMayStart(): Promise<void> {
    const before = this.beforeChildren;
    if (before === undefined) return Promise.resolve();
    if (before === "settled") return this.settled();
    let barrier: Promise<void>;
    try {
      barrier = before();
    } catch (error) {
      barrier = Promise.reject(error);
    }
    return barrier.catch(this.fail);
  }

  /** Settles once every call queued so far has settled (never rejects). */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * Queues a hook call behind every earlier one (or, when pipelined, calls it now and awaits
   * it behind every earlier one); the first hook failure stops the run.
   */
  enqueue(call: () => void | Promise<void>): void {
    if (!this.pipelined) {
      this.chain = this.chain.then(() => this.hasFailed ? undefined : call()).catch(this.fail);
      return;
    }
    if (this.hasFailed) return;
    let done: Promise<void>;
    try {
      done = Promise.resolve(call());
    } catch (error) {
      done = Promise.reject(error);
    }
    done.catch(() => {}); // handled in order, by the chain below
    this.chain = this.chain.then(() => done).catch(this.fail);
  }

  /** Reports the current state of `slot` to `onNodeUpdate`; free when there is no hook. */
  emitNode(slot: Slot): void {
    const hook = this.onNodeUpdate;
    if (!hook) return;
    const snapshot = { ...slot.rec };
    const { runId, record } = this;
    this.enqueue(() => hook(runId, slot.id, snapshot, record));
  }

  private readonly fail = (error: unknown): void => {
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.firstError = error;
    this.onFailure(error);
  };
}
