/**
 * Scheduling of a run: O(n + e) overall. Each node keeps a count of unfinished parents; a
 * finished node visits its children once, and a node whose count reaches zero is queued,
 * skipped or (on resume) reused at once. Propagation uses a work list, never recursion, so
 * skipping a 10,000-node chain cannot overflow the stack.
 *
 * @module
 */

import { ancestorMask, descendantMask } from "./_dag_plan.ts";
import { runNode } from "./_run_node.ts";
import { emitNode, type RunState, Slot, stopRun } from "./_run_state.ts";
import { type NodeRecord, NodeStatus, type RunRecord } from "../run_record.ts";

/** Whether `slot` finished in a way that feeds its children. */
function fires(slot: Slot): boolean {
  const { status } = slot.rec;
  return status === NodeStatus.Succeeded ||
    (status === NodeStatus.Failed && slot.node.allowFailure);
}

/** Whether `parent` fired along the edge to the child `id`. */
function firesTo(parent: Slot, id: string): boolean {
  return fires(parent) && (parent.routes === undefined || parent.routes.includes(id));
}

/** Input of a node whose parents are all done (SPEC §3). */
function inputOf(s: RunState, slot: Slot): unknown {
  const parents = s.plan.parents[slot.index]!;
  if (parents.length === 0) return s.record.input;
  if (parents.length === 1) return s.slots[parents[0]!]!.output;
  const input: Record<string, unknown> = {};
  for (const i of parents) {
    const parent = s.slots[i]!;
    if (firesTo(parent, slot.id)) input[parent.id] = parent.output;
  }
  return input;
}

function skip(s: RunState, slot: Slot): void {
  if (slot.resumed) {
    slot.resumed = false;
    s.record.nodes[slot.id] = slot.rec = { status: NodeStatus.Skipped, attempts: 0 };
  } else {
    slot.rec.status = NodeStatus.Skipped;
  }
  emitNode(s, slot);
}

/**
 * Handles a node whose parents are all done, then every node that becomes decided because
 * of it: queues the ones to run, skips or reuses the others. `first` is either a finished
 * node or (with `isRoot`) a node without parents.
 */
export function propagate(s: RunState, first: Slot, isRoot = false): void {
  const stack = s.stack;
  if (isRoot) {
    if (!first.resumed) {
      first.input = s.record.input;
      s.ready.push(first);
      return;
    }
  }
  stack.push(first);
  while (stack.length > 0) {
    const parent = stack.pop()!;
    const fired = fires(parent);
    const poisons = !fired && (parent.rec.status !== NodeStatus.Skipped || parent.poisoned);
    const routes = fired ? parent.routes : undefined;
    const routeSet = routes && routes.length > 8 ? new Set(routes) : undefined;
    for (const i of s.plan.children[parent.index]!) {
      const child = s.slots[i];
      if (!child) continue;
      if (poisons) child.poisoned = true;
      else if (
        fired &&
        (routes === undefined || (routeSet ? routeSet.has(child.id) : routes.includes(child.id)))
      ) child.live++;
      if (--child.remaining > 0) continue;
      if (child.poisoned || child.live === 0) {
        skip(s, child);
        stack.push(child);
      } else if (child.resumed) {
        stack.push(child);
      } else {
        child.input = inputOf(s, child);
        s.ready.push(child);
      }
    }
  }
}

/** Starts queued nodes up to `maxParallel`, unless the run is stopping. */
export function pump(s: RunState): void {
  const ready = s.ready;
  while (!s.stopping && s.active < s.maxParallel && s.readyHead < ready.length) {
    const slot = ready[s.readyHead++]!;
    s.active++;
    runNode(s, slot, s.stopController.signal).then(() => settle(s, slot));
  }
  if (s.readyHead === ready.length && s.readyHead > 0) {
    ready.length = 0;
    s.readyHead = 0;
  }
}

function settle(s: RunState, slot: Slot): void {
  s.active--;
  const { rec } = slot;
  if (rec.status === NodeStatus.Failed && !slot.node.allowFailure) {
    s.failure ??= { node: slot.id, message: rec.error?.message ?? "" };
    if (s.failFast) stopRun(s, failFastReason(slot.id), `the run failed at node "${slot.id}"`);
  }
  propagate(s, slot);
  pump(s);
  finishDag(s);
}

function failFastReason(node: string): DOMException {
  return new DOMException(`Run failed at node "${node}"`, "AbortError");
}

/** Resolves the run's DAG phase once nothing runs and nothing more can start. */
export function finishDag(s: RunState): void {
  if (s.active === 0 && (s.stopping || s.readyHead >= s.ready.length)) s.resolveDone();
}

/** Creates the slots and records of the nodes to run (all, or the target and its ancestors). */
export function createSlots(
  s: RunState,
  target: number | undefined,
  resume: RunRecord | undefined,
  retry?: { of: RunRecord; from?: string },
) {
  const { plan, workflow } = s;
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
    const slot = new Slot(i, id, node, rec, plan.parents[i]!.length);
    if (reuse) {
      slot.resumed = true;
      slot.routes = previous.routes;
      slot.output = previous.status === NodeStatus.Succeeded
        ? previous.output
        : { error: { message: previous.error?.message ?? "" } };
    }
    s.slots[i] = slot;
    s.record.nodes[id] = rec;
  }
}
