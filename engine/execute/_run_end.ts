/**
 * The end of a run: the onError node.
 *
 * @module
 */

import type { Run } from "./_run.ts";
import { runNode } from "./_run_node.ts";
import { CANCELLED } from "./_run_stop.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import { NodeStatus } from "../run_record.ts";

/** Runs `workflow.onError` once with `{ runId, failedNode, error, input }`. */
export async function runOnError(run: Run, signal: AbortSignal | undefined): Promise<void> {
  const { ctx, nodes, stop } = run;
  const node = ctx.workflow.onError!;
  const failure = stop.failure!;
  const slot = nodes.addOnError(node);
  const { rec } = slot;
  slot.input = {
    runId: ctx.runId,
    failedNode: failure.node,
    error: { message: failure.message },
    input: nodes.input,
  };
  const onAbort = () => {
    stop.cancelOnError();
    slot.abort?.(
      signal?.reason,
      new NodeFailure(`Cannot complete node "${node.id}": ${CANCELLED}`, {
        kind: FailureKind.Cancelled,
      }),
    );
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await runNode(run, slot, signal);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (rec.status === NodeStatus.Failed) {
    ctx.logLine("error", node.id, `onError node "${node.id}" failed: ${rec.error?.message}`);
  }
}
