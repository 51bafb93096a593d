/**
 * Sleep and wait nodes (SPEC §10). The node registers its wait in the durable state (a
 * restarted node finds the original one, so a sleep ends at its first due time), then:
 * a resolved wait finishes the node (an event's payload is the output; a sleep passes its
 * input through; a wait whose timeout passed fails); an unresolved one parks the run in
 * dev/serve (`waiting`, resumed when the wait resolves) or, in exec/test, waits on the clock
 * and takes events from `ExecuteOptions.events`.
 *
 * @module
 */

import type { Run } from "./_run.ts";
import { iso } from "./_run_context.ts";
import type { Slot } from "./_run_nodes.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import type { WaitRecord, WaitResolution } from "../durable_protocol.ts";
import { NodeStatus } from "../run_record.ts";
import { formatDuration } from "../workflow/_duration.ts";

/** Runs a sleep or wait node to a final status, or to `waiting` (parked). Never rejects. */
export async function runWaitNode(
  run: Run,
  slot: Slot,
  stop: AbortSignal | undefined,
): Promise<void> {
  const { ctx, hooks, durable } = run;
  const { node, rec } = slot;
  const clock = durable.park ? ctx.clock : durable.waitClock ?? ctx.clock;
  if (stop?.aborted) {
    rec.status = NodeStatus.Skipped;
    hooks.emitNode(slot);
    return;
  }
  const started = clock.now();
  rec.status = NodeStatus.Running;
  rec.attempts = 1;
  rec.startedAt = iso(started);
  hooks.emitNode(slot);
  const event = node.kind === "wait" ? node.wait?.event : undefined;
  const delay = node.kind === "sleep" ? node.sleepMs : node.wait?.timeoutMs;
  const spec: { event?: string; dueAt?: number } = {};
  if (event !== undefined) spec.event = event;
  if (delay !== undefined) spec.dueAt = started + delay;

  const end = (status: NodeStatus, error?: NodeFailure) => {
    const finished = clock.now();
    rec.status = status;
    delete rec.waitingFor;
    if (error) {
      rec.error = ctx.errorInfo(error);
      if (status === NodeStatus.Failed && node.allowFailure) {
        slot.output = { error: { message: rec.error.message } };
      }
    }
    rec.finishedAt = iso(finished);
    rec.durationMs = finished - started;
    hooks.emitNode(slot);
  };
  const resolved = (resolution: WaitResolution) => {
    if (resolution.kind === "event") {
      rec.output = slot.output = resolution.payload;
      return end(NodeStatus.Succeeded);
    }
    if (node.kind === "sleep") {
      rec.output = slot.output = slot.input;
      return end(NodeStatus.Succeeded);
    }
    end(
      NodeStatus.Failed,
      new NodeFailure(
        `Cannot complete wait node "${slot.id}": no "${event}" event arrived within ${
          formatDuration(delay ?? 0)
        }; raise wait.timeout in workflow.yaml or send the event sooner`,
        { kind: FailureKind.Timeout, nonRetryable: true },
      ),
    );
  };
  const resolve = async (resolution: WaitResolution): Promise<WaitRecord | undefined> => {
    await durable.state.resolveWait(ctx.runId, slot.id, resolution);
    return (await durable.state.listWaits(ctx.runId)).find((w) => w.nodeId === slot.id);
  };

  try {
    let wait = await durable.state.putWait(ctx.runId, slot.id, spec);
    for (;;) {
      if (!wait) {
        throw new Error(`the run "${ctx.runId}" is not in the store`);
      }
      if (wait.resolution) return resolved(wait.resolution);
      const now = clock.now();
      if (wait.dueAt !== undefined && wait.dueAt <= now) {
        wait = await resolve({ kind: "due" });
        continue;
      }
      if (!durable.park && event !== undefined && Object.hasOwn(durable.events, event)) {
        wait = await resolve({ kind: "event", event, payload: durable.events[event] });
        continue;
      }
      if (durable.park) {
        rec.status = NodeStatus.Waiting;
        rec.waitingFor = {};
        if (wait.event !== undefined) rec.waitingFor.event = wait.event;
        if (wait.dueAt !== undefined) rec.waitingFor.dueAt = iso(wait.dueAt);
        durable.parked.add(slot.id);
        hooks.emitNode(slot);
        return;
      }
      if (wait.dueAt === undefined) {
        return end(
          NodeStatus.Failed,
          new NodeFailure(
            `Cannot complete wait node "${slot.id}": nothing can send the "${event}" event ` +
              'outside dev and serve; give it in a pipeline fixture\'s "events"',
            { nonRetryable: true },
          ),
        );
      }
      rec.waitingFor = { dueAt: iso(wait.dueAt), ...(event === undefined ? {} : { event }) };
      hooks.emitNode(slot);
      await clock.sleep(wait.dueAt - now, stop);
      if (stop?.aborted) throw stop.reason;
      wait = await resolve({ kind: "due" });
    }
  } catch (error) {
    if (stop?.aborted) {
      return end(
        NodeStatus.Cancelled,
        new NodeFailure(`Cannot complete node "${slot.id}": ${run.stop.why}`, {
          kind: FailureKind.Cancelled,
        }),
      );
    }
    end(
      NodeStatus.Failed,
      new NodeFailure(`Cannot register the wait of node "${slot.id}": ${error}`, {
        cause: error,
      }),
    );
  }
}
