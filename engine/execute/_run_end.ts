/**
 * The end of a run: its result and the onError node.
 *
 * @module
 */

import { runNode } from "./_run_node.ts";
import { CANCELLED, logLine, type RunState, Slot } from "./_run_state.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import { type NodeRecord, NodeStatus } from "../run_record.ts";

/** The output of one sink, as the run result shows it; undefined when it did not fire. */
function sinkOutput(slot: Slot): unknown {
  const { status } = slot.rec;
  return status === NodeStatus.Succeeded || status === NodeStatus.Failed ? slot.output : undefined;
}

/** Output of the single sink, or `{ [sinkId]: output }` of the sinks that did not skip. */
export function runResult(s: RunState, sinks: number[]): unknown {
  if (sinks.length === 1) return sinkOutput(s.slots[sinks[0]!]!);
  const result: Record<string, unknown> = {};
  for (const i of sinks) {
    const slot = s.slots[i]!;
    if (slot.rec.status !== NodeStatus.Skipped) result[slot.id] = sinkOutput(slot);
  }
  return result;
}

/** Runs `workflow.onError` once with `{ runId, failedNode, error, input }`. */
export async function runOnError(s: RunState, signal: AbortSignal | undefined): Promise<void> {
  const node = s.workflow.onError!;
  const failure = s.failure!;
  const rec: NodeRecord = { status: NodeStatus.Pending, attempts: 0 };
  const slot = new Slot(-1, node.id, node, rec, 0);
  slot.input = {
    runId: s.runId,
    failedNode: failure.node,
    error: { message: failure.message },
    input: s.record.input,
  };
  s.record.nodes[node.id] = rec;
  const onAbort = () => {
    s.stopWhy = CANCELLED;
    slot.abort?.(
      signal?.reason,
      new NodeFailure(`Cannot complete node "${node.id}": ${CANCELLED}`, {
        kind: FailureKind.Cancelled,
      }),
    );
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await runNode(s, slot, signal);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (rec.status === NodeStatus.Failed) {
    logLine(s, "error", node.id, `onError node "${node.id}" failed: ${rec.error?.message}`);
  }
}
