/**
 * Sub-workflow nodes (SPEC §9 `workflow:`): the node's input starts a child run of the other
 * workflow; the child's result is the node's output and its failure the node's failure. The
 * child run id is derived from the parent's, so a resumed parent finds (and resumes) its child
 * instead of starting another.
 *
 * @module
 */

import type { Run } from "./_run.ts";
import type { Slot } from "./_run_nodes.ts";
import { FailureKind, InputValidationError, NodeFailure } from "../errors.ts";
import { type RunRecord, RunStatus } from "../run_record.ts";
import type { NodeCallResult } from "../runner_protocol.ts";

/**
 * Thrown by {@link runChildAttempt} when the child run parked at a sleep or wait (dev/serve):
 * the node then waits too (`waiting`, no slot), and resumes its child when the run resumes.
 */
export class ChildParked extends Error {
  override name = "ChildParked";
  constructor(readonly childRunId: string) {
    super(`Child run "${childRunId}" is waiting`);
  }
}

/** The child run id of a node (of one map element with `index`). */
export function childRunId(parentRunId: string, node: string, index?: number): string {
  return index === undefined ? `${parentRunId}~${node}` : `${parentRunId}~${node}~${index}`;
}

/**
 * Runs the child run of `slot` (a sub-workflow node, or one element of a mapped one) as one
 * attempt: resolves with the child's result, rejects with a {@link NodeFailure} when the child
 * failed or was cancelled, and with {@link ChildParked} when it parked (the run parks too).
 * `onChild` learns the child run id first.
 */
export async function runChildAttempt(
  run: Run,
  slot: Slot,
  signal: AbortSignal,
  onChild: (runId: string) => void,
): Promise<NodeCallResult> {
  const { ctx, durable } = run;
  const dir = slot.node.workflow!;
  const workflow = ctx.workflow.subWorkflows?.[dir];
  if (!workflow) {
    throw new NodeFailure(
      `Cannot run sub-workflow node "${slot.id}": workflow "${dir}" was not loaded with its parent`,
      { nonRetryable: true },
    );
  }
  const runId = childRunId(ctx.runId, slot.id, slot.item?.index);
  onChild(runId);
  let record: RunRecord;
  try {
    record = await durable.runChild({
      workflow,
      input: slot.input,
      runId,
      parentRunId: ctx.runId,
      parentNode: slot.id,
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new NodeFailure(
      `Cannot run child run "${runId}" of workflow "${workflow.name}": ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error, nonRetryable: error instanceof InputValidationError },
    );
  }
  if (record.status === RunStatus.Succeeded) return { output: record.result };
  if (record.status === RunStatus.Waiting && durable.park) throw new ChildParked(runId);
  const why = record.status === RunStatus.Failed
    ? `failed at node "${record.error?.node}": ${record.error?.message}`
    : `it ended ${record.status}`;
  throw new NodeFailure(`Child run "${runId}" of workflow "${workflow.name}" ${why}`, {
    kind: record.status === RunStatus.Cancelled ? FailureKind.Cancelled : FailureKind.Error,
    nonRetryable: true,
  });
}
