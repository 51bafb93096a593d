/**
 * The node-state part of a run: its `RunRecord` and one `Slot` per executed node. Only this
 * part adds nodes to the record or replaces a node's record; `runNode()` fills in the
 * transitions of the slot it runs.
 *
 * @module
 */

import { ancestorMask, type DagPlan, descendantMask } from "./_dag_plan.ts";
import type { NodeFailure } from "../errors.ts";
import type { CompiledNode, CompiledWorkflow } from "../workflow_model.ts";
import { type NodeRecord, NodeStatus, type RunRecord } from "../run_record.ts";

/** One node of the run: its scheduling counters, its record and its result. */
export class Slot {
  /** Parents not done yet. */
  remaining: number;
  /** Done parents that fired to this node (not skipped, routed here). */
  live = 0;
  /** A parent failed, was cancelled or was skipped because of a failure. */
  poisoned = false;
  /** Reused from `ExecuteOptions.resume`: not executed again. */
  resumed = false;
  input: unknown = undefined;
  /** What children receive: the output, or `{ error: { message } }` after an allowed failure. */
  output: unknown = undefined;
  routes: string[] | undefined = undefined;
  /** Aborts the attempt in flight, if any. */
  abort: ((reason: unknown, failure: NodeFailure) => void) | undefined = undefined;
  /** Set on the slot of one map element: `ctx.item`. */
  item: { index: number; total: number } | undefined = undefined;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly node: CompiledNode,
    public rec: NodeRecord,
    remaining: number,
  ) {
    this.remaining = remaining;
  }
}

/** The run record and the slots of the executed nodes (indexed like `DagPlan.ids`). */
export class RunNodes {
  /** Undefined for nodes outside the run (not an ancestor of the target). */
  readonly slots: readonly (Slot | undefined)[];

  /** The run input as root nodes receive it (the record holds its redacted copy). */
  input: unknown;

  constructor(readonly record: RunRecord, plan: DagPlan) {
    this.slots = new Array(plan.ids.length);
    this.input = record.input;
  }

  /** Creates the slots and records of the nodes to run (all, or the target and its ancestors). */
  createSlots(
    workflow: CompiledWorkflow,
    plan: DagPlan,
    target: number | undefined,
    resume: RunRecord | undefined,
    retry?: { of: RunRecord; from?: string },
  ): void {
    const slots = this.slots as (Slot | undefined)[];
    const mask = target === undefined ? undefined : ancestorMask(plan, target);
    // A retry reuses succeeded nodes only, never `from` or what depends on it.
    const rerun = retry?.from === undefined
      ? undefined
      : descendantMask(plan, plan.index.get(retry.from)!);
    for (let i = 0; i < plan.ids.length; i++) {
      if (mask && mask[i] === 0) continue;
      const id = plan.ids[i]!;
      const node = workflow.nodes[id]!;
      const previous = resume?.nodes[id];
      const reuse = previous !== undefined &&
        (retry
          ? previous.status === NodeStatus.Succeeded && rerun?.[i] !== 1
          : previous.status === NodeStatus.Succeeded ||
            (previous.status === NodeStatus.Failed && node.allowFailure));
      const rec: NodeRecord = reuse ? { ...previous } : { status: NodeStatus.Pending, attempts: 0 };
      if (reuse && retry) rec.reusedFrom = previous.reusedFrom ?? retry.of.runId;
      // Crash recovery's count of engine stops during this node goes on with its new record.
      if (!reuse && previous?.interruptions) rec.interruptions = previous.interruptions;
      const slot = new Slot(i, id, node, rec, plan.parents[i]!.length);
      if (reuse) {
        slot.resumed = true;
        slot.routes = previous.routes;
        slot.output = previous.status === NodeStatus.Succeeded
          ? previous.output
          : { error: { message: previous.error?.message ?? "" } };
      }
      slots[i] = slot;
      this.record.nodes[id] = rec;
    }
  }

  /** Adds the slot of the onError node (outside the DAG) to the record. */
  addOnError(node: CompiledNode): Slot {
    const rec: NodeRecord = { status: NodeStatus.Pending, attempts: 0 };
    this.record.nodes[node.id] = rec;
    return new Slot(-1, node.id, node, rec, 0);
  }

  /** Marks `slot` skipped; a resumed node gets a fresh record (it is not reused after all). */
  skip(slot: Slot): void {
    if (slot.resumed) {
      slot.resumed = false;
      this.record.nodes[slot.id] = slot.rec = { status: NodeStatus.Skipped, attempts: 0 };
    } else {
      slot.rec.status = NodeStatus.Skipped;
    }
  }

  /** Aborts every attempt in flight (see `RunStop.stop`). */
  abortAll(reason: unknown, failure: (slot: Slot) => NodeFailure): void {
    for (const slot of this.slots) {
      if (slot?.abort) slot.abort(reason, failure(slot));
    }
  }

  /** Output of the single sink, or `{ [sinkId]: output }` of the sinks that did not skip. */
  result(sinks: readonly number[]): unknown {
    if (sinks.length === 1) return sinkOutput(this.slots[sinks[0]!]!);
    const result: Record<string, unknown> = {};
    for (const i of sinks) {
      const slot = this.slots[i]!;
      if (slot.rec.status !== NodeStatus.Skipped) result[slot.id] = sinkOutput(slot);
    }
    return result;
  }
}

/** The output of one sink, as the run result shows it; undefined when it did not fire. */
function sinkOutput(slot: Slot): unknown {
  const { status } = slot.rec;
  return status === NodeStatus.Succeeded || status === NodeStatus.Failed ? slot.output : undefined;
}
