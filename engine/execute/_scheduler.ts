/**
 * Scheduling of a run: O(n + e) overall. Each node keeps a count of unfinished parents; a
 * finished node visits its children once, and a node whose count reaches zero is queued,
 * skipped or (on resume) reused at once. Propagation uses a work list, never recursion, so
 * skipping a 10,000-node chain cannot overflow the stack.
 *
 * @module
 */

import type { Run } from "./_run.ts";
import { runAnyNode } from "./_run_any_node.ts";
import type { Slot } from "./_run_nodes.ts";
import { NodeStatus } from "../run_record.ts";

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

/** The DAG phase of a run: the ready queue, the nodes running, and `maxParallel`. */
export class Scheduler {
  private readonly ready: Slot[] = [];
  private readyHead = 0;
  private active = 0;
  /** Reused work list of the skip/ready propagation. */
  private readonly stack: Slot[] = [];
  private readonly maxParallel: number;
  private resolveDone: () => void = () => {};

  constructor(private readonly run: Run, maxParallel: number) {
    this.maxParallel = maxParallel >= 1 ? maxParallel : 1;
  }

  /**
   * Starts the roots and resolves once nothing runs and nothing more can start (every node
   * done, or the run stopping and its attempts settled).
   */
  start(): Promise<void> {
    const done = new Promise<void>((resolve) => this.resolveDone = resolve);
    const { slots } = this.run.nodes;
    const { parents } = this.run.ctx.plan;
    for (const slot of slots) {
      if (slot && parents[slot.index]!.length === 0) this.propagate(slot, true);
    }
    this.pump();
    this.finish();
    return done;
  }

  /** Input of a node whose parents are all done (SPEC §3). */
  private inputOf(slot: Slot): unknown {
    const { ctx, nodes } = this.run;
    const parents = ctx.plan.parents[slot.index]!;
    if (parents.length === 0) return nodes.input;
    if (parents.length === 1) return nodes.slots[parents[0]!]!.output;
    const input: Record<string, unknown> = {};
    for (const i of parents) {
      const parent = nodes.slots[i]!;
      if (firesTo(parent, slot.id)) input[parent.id] = parent.output;
    }
    return input;
  }

  /**
   * Handles a node whose parents are all done, then every node that becomes decided because
   * of it: queues the ones to run, skips or reuses the others. `first` is either a finished
   * node or (with `isRoot`) a node without parents.
   */
  private propagate(first: Slot, isRoot = false): void {
    const { stack, run } = this;
    if (isRoot) {
      if (!first.resumed) {
        first.input = run.nodes.input;
        this.ready.push(first);
        return;
      }
    }
    const { nodes, hooks } = run;
    const { slots } = nodes;
    const { children } = run.ctx.plan;
    stack.push(first);
    while (stack.length > 0) {
      const parent = stack.pop()!;
      const fired = fires(parent);
      const poisons = !fired && (parent.rec.status !== NodeStatus.Skipped || parent.poisoned);
      const routes = fired ? parent.routes : undefined;
      const routeSet = routes && routes.length > 8 ? new Set(routes) : undefined;
      for (const i of children[parent.index]!) {
        const child = slots[i];
        if (!child) continue;
        if (poisons) child.poisoned = true;
        else if (
          fired &&
          (routes === undefined ||
            (routeSet ? routeSet.has(child.id) : routes.includes(child.id)))
        ) child.live++;
        if (--child.remaining > 0) continue;
        if (child.poisoned || child.live === 0) {
          nodes.skip(child);
          hooks.emitNode(child);
          stack.push(child);
        } else if (child.resumed) {
          stack.push(child);
        } else {
          child.input = this.inputOf(child);
          this.ready.push(child);
        }
      }
    }
  }

  /** Starts queued nodes up to `maxParallel`, unless the run is stopping. */
  private pump(): void {
    const { ready, run } = this;
    const { stop } = run;
    while (!stop.stopping && this.active < this.maxParallel && this.readyHead < ready.length) {
      const slot = ready[this.readyHead++]!;
      this.active++;
      const done = runAnyNode(run, slot, stop.signal);
      if (run.hooks.gated) {
        done.then(() => run.hooks.childrenMayStart()).then(() => this.settle(slot));
      } else done.then(() => this.settle(slot));
    }
    if (this.readyHead === ready.length && this.readyHead > 0) {
      ready.length = 0;
      this.readyHead = 0;
    }
  }

  private settle(slot: Slot): void {
    this.active--;
    const { rec } = slot;
    if (rec.status === NodeStatus.Waiting) {
      // Parked (SPEC §10): its children stay pending until the run resumes.
      this.pump();
      this.finish();
      return;
    }
    if (rec.status === NodeStatus.Failed && !slot.node.allowFailure) {
      this.run.stop.nodeFailed(slot, rec.error?.message ?? "");
    }
    this.propagate(slot);
    this.pump();
    this.finish();
  }

  /** Resolves the DAG phase once nothing runs and nothing more can start. */
  private finish(): void {
    if (
      this.active === 0 && (this.run.stop.stopping || this.readyHead >= this.ready.length)
    ) this.resolveDone();
  }
}
