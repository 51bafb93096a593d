/**
 * Map nodes (SPEC §9): one execution per element of the parent's output field, at most
 * `map.concurrency` in flight, each with the node's timeout and retries. Every element's record
 * is stored (`DurableState.putMapItem`) as it finishes, before it counts as done, so a resumed
 * run re-runs only the elements that had not finished.
 *
 * @module
 */

import type { Run } from "./_run.ts";
import { iso } from "./_run_context.ts";
import { Slot } from "./_run_nodes.ts";
import { attempt, checkStorable, isNonRetryable, prepare } from "./_run_node.ts";
import { ChildParked } from "./_run_child.ts";
import { waitToRetry } from "./_retry_wait.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import type { MapItemRecord } from "../durable_protocol.ts";
import { type MapItemCounts, NodeStatus } from "../run_record.ts";

/** Elements read back per page when a map node resumes. */
const RESUME_PAGE = 1000;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** The array a map node maps over, or a failure message naming what it got. */
function arrayOf(slot: Slot): unknown[] | string {
  const over = slot.node.map!.over;
  const input = slot.input;
  if (over === ".") {
    return Array.isArray(input)
      ? input
      : `Cannot map node "${slot.id}": the parent's output is ${describe(input)}, not an array; ` +
        `set map.over to the field that holds the array`;
  }
  const isObject = typeof input === "object" && input !== null && !Array.isArray(input);
  const value = isObject ? (input as Record<string, unknown>)[over] : undefined;
  if (Array.isArray(value)) return value;
  return isObject && Object.hasOwn(input as object, over)
    ? `Cannot map node "${slot.id}": field "${over}" of the parent's output is ${
      describe(value)
    }, not an array`
    : `Cannot map node "${slot.id}": the parent's output (${
      describe(input)
    }) has no field "${over}"; map.over names a top-level field (or "." for the output itself)`;
}

/** Runs the attempts of one element to a final record (never rejects). */
async function runElement(
  run: Run,
  element: Slot,
  stop: AbortSignal | undefined,
): Promise<MapItemRecord> {
  const { ctx } = run;
  const { node } = element;
  const index = element.item!.index;
  const started = ctx.clock.now();
  const item: MapItemRecord = { index, status: NodeStatus.Running, attempts: 1 };
  item.startedAt = iso(started);
  for (let n = 1;; n++) {
    item.attempts = n;
    const outcome = await attempt(run, element, n, undefined);
    if (!outcome.ok && outcome.error instanceof ChildParked) {
      // The element's child run parked: the element waits (it resumes with the run).
      item.status = NodeStatus.Waiting;
      break;
    }
    const failure = outcome.ok ? checkStorable(element, outcome.result.output) : outcome.error;
    if (outcome.ok && failure === undefined) {
      item.status = NodeStatus.Succeeded;
      item.output = outcome.result.output;
      delete item.error;
      break;
    }
    item.error = ctx.errorInfo(failure);
    if (!outcome.ok && outcome.cancelled) {
      item.status = NodeStatus.Cancelled;
      break;
    }
    if (n > node.retries || isNonRetryable(failure)) {
      item.status = NodeStatus.Failed;
      break;
    }
    const cancelled = await waitToRetry(run, n, {
      stop,
      what: `element ${index} of node "${element.id}"`,
    });
    if (cancelled) {
      item.status = NodeStatus.Cancelled;
      item.error = ctx.errorInfo(cancelled);
      break;
    }
  }
  if (element.rec.childRunId !== undefined) item.childRunId = element.rec.childRunId;
  const finished = ctx.clock.now();
  item.finishedAt = iso(finished);
  item.durationMs = finished - started;
  return item;
}

/**
 * Runs a map node to a final status: succeeded with the element outputs in order, or failed
 * (the first element failure without `allowFailure`, which stops starting new elements), or
 * cancelled. Never rejects.
 */
export async function runMapNode(
  run: Run,
  slot: Slot,
  stop: AbortSignal | undefined,
): Promise<void> {
  const { ctx, hooks, durable } = run;
  const { node, rec } = slot;
  const started = ctx.clock.now();
  rec.status = NodeStatus.Running;
  rec.attempts = 1;
  rec.startedAt = iso(started);
  const finish = () => {
    const finished = ctx.clock.now();
    rec.finishedAt = iso(finished);
    rec.durationMs = finished - started;
    hooks.emitNode(slot);
  };
  const fail = (message: string, nonRetryable = true) => {
    rec.status = NodeStatus.Failed;
    rec.error = ctx.errorInfo(new NodeFailure(message, { nonRetryable }));
    if (node.allowFailure) slot.output = { error: { message: rec.error.message } };
    finish();
  };
  if (stop?.aborted) {
    rec.status = NodeStatus.Skipped;
    hooks.emitNode(slot);
    return;
  }
  const list = arrayOf(slot);
  if (typeof list === "string") return fail(list);
  const total = list.length;
  const counts: MapItemCounts = { total, succeeded: 0, failed: 0, running: 0 };
  rec.items = { ...counts };
  hooks.emitNode(slot);
  // The sandbox starts before the first element's timeout does (as for any code node).
  if (node.kind !== "workflow") await prepare(run, slot);

  const outputs: unknown[] = new Array(total);
  const done = new Uint8Array(total);
  try {
    // A resumed node keeps every element that finished before the crash.
    let cursor: string | undefined;
    do {
      const page = await durable.state.listMapItems(ctx.runId, slot.id, {
        status: [NodeStatus.Succeeded, NodeStatus.Failed],
        limit: RESUME_PAGE,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const item of page.items) {
        if (item.index >= total) continue;
        if (item.status === NodeStatus.Succeeded) {
          outputs[item.index] = item.output;
          done[item.index] = 1;
          counts.succeeded++;
        } else if (node.allowFailure) {
          outputs[item.index] = { error: { message: item.error?.message ?? "" } };
          done[item.index] = 1;
          counts.failed++;
        }
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  } catch (error) {
    return fail(`Cannot map node "${slot.id}": cannot read its stored elements: ${error}`, false);
  }

  const concurrency = Math.max(1, node.map!.concurrency);
  const inFlight = new Set<Slot>();
  let next = 0;
  let firstFailure: string | undefined;
  let storeFailure: string | undefined;
  let cancelled = false;
  /** Elements whose child run parked (not finished: they run again when the run resumes). */
  let parked = 0;
  let finishedCount = counts.succeeded + counts.failed;
  // Progress is reported about 200 times per node, not once per element.
  const every = Math.max(1, Math.floor(total / 200));
  slot.abort = (reason, failure) => {
    cancelled = true;
    for (const element of inFlight) element.abort?.(reason, failure);
  };

  await new Promise<void>((resolveAll) => {
    const pump = () => {
      while (
        !cancelled && !stop?.aborted && firstFailure === undefined && storeFailure === undefined &&
        inFlight.size < concurrency && next < total
      ) {
        const index = next++;
        if (done[index]) continue;
        const element = new Slot(slot.index, slot.id, node, {
          status: NodeStatus.Running,
          attempts: 0,
        }, 0);
        element.input = list[index];
        element.item = { index, total };
        inFlight.add(element);
        counts.running++;
        runElement(run, element, stop).then(async (item) => {
          try {
            if (item.status !== NodeStatus.Cancelled) {
              const stored = "output" in item
                ? { ...item, output: ctx.redactValue(item.output) }
                : item;
              await durable.state.putMapItem(ctx.runId, slot.id, stored);
            }
          } catch (error) {
            storeFailure ??= `Cannot store element ${index} of map node "${slot.id}": ${error}`;
          }
          inFlight.delete(element);
          counts.running--;
          if (item.status === NodeStatus.Succeeded) {
            outputs[index] = item.output;
            counts.succeeded++;
          } else if (item.status === NodeStatus.Waiting) {
            parked++;
          } else if (item.status === NodeStatus.Failed) {
            counts.failed++;
            const message = item.error?.message ?? "";
            if (node.allowFailure) outputs[index] = { error: { message } };
            else firstFailure ??= `Element ${index} of map node "${slot.id}" failed: ${message}`;
          } else {
            cancelled = true;
          }
          finishedCount++;
          if (finishedCount % every === 0 || finishedCount === total) {
            rec.items = { ...counts };
            hooks.emitNode(slot);
          }
          pump();
        });
      }
      const starting = !cancelled && !stop?.aborted && firstFailure === undefined &&
        storeFailure === undefined && next < total;
      if (inFlight.size === 0 && !starting) resolveAll();
    };
    pump();
  });
  slot.abort = undefined;
  rec.items = { ...counts };
  if (storeFailure !== undefined) return fail(storeFailure, false);
  if (firstFailure !== undefined) return fail(firstFailure);
  if (cancelled || stop?.aborted) {
    rec.status = NodeStatus.Cancelled;
    rec.error = ctx.errorInfo(
      new NodeFailure(`Cannot complete map node "${slot.id}": ${run.stop.why}`, {
        kind: FailureKind.Cancelled,
      }),
    );
    return finish();
  }
  if (parked > 0) {
    // Every other element finished: the node waits for its parked children.
    rec.status = NodeStatus.Waiting;
    rec.waitingFor = { children: parked };
    durable.parked.add(slot.id);
    hooks.emitNode(slot);
    return;
  }
  rec.status = NodeStatus.Succeeded;
  slot.output = outputs;
  rec.output = ctx.redactValue(outputs);
  finish();
}
