/**
 * The index-based form of a workflow's DAG that the executor schedules on, built once per
 * workflow object in O(n + e).
 *
 * @module
 */

import type { CompiledWorkflow } from "../workflow_model.ts";

/** Node indices follow `workflow.order` (topological). */
export interface DagPlan {
  ids: string[];
  index: Map<string, number>;
  parents: number[][];
  children: number[][];
  sinks: number[];
  /** Lazily built child-id sets of nodes with many children (route checks). */
  childSets: (Set<string> | undefined)[];
}

const plans = new WeakMap<CompiledWorkflow, DagPlan>();

function indicesOf(
  ids: string[] | undefined,
  index: Map<string, number>,
  from: string,
  relation: string,
): number[] {
  if (!ids) return [];
  return ids.map((id) => {
    const i = index.get(id);
    if (i === undefined) {
      throw new TypeError(
        `Cannot execute workflow: ${relation} "${id}" of node "${from}" is not in the DAG`,
      );
    }
    return i;
  });
}

/**
 * The plan of `workflow`, cached per workflow object.
 *
 * @throws {TypeError} when `order`, `parents` and `children` disagree (a compiler bug)
 */
export function dagPlan(workflow: CompiledWorkflow): DagPlan {
  let plan = plans.get(workflow);
  if (plan) return plan;
  const ids = workflow.order;
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const parents = ids.map((id) => indicesOf(workflow.parents[id], index, id, "parent"));
  const children = ids.map((id) => indicesOf(workflow.children[id], index, id, "child"));
  const sinks = indicesOf(workflow.sinks, index, workflow.name, "sink");
  plan = { ids, index, parents, children, sinks, childSets: new Array(ids.length) };
  plans.set(workflow, plan);
  return plan;
}

/** Whether `id` is a declared child of node `i`. */
export function hasChild(plan: DagPlan, i: number, id: string): boolean {
  const children = plan.children[i]!;
  if (children.length <= 8) return children.some((c) => plan.ids[c] === id);
  let set = plan.childSets[i];
  if (!set) set = plan.childSets[i] = new Set(children.map((c) => plan.ids[c]!));
  return set.has(id);
}

/** Marks node `target` and all its ancestors with 1. */
export function ancestorMask(plan: DagPlan, target: number): Uint8Array {
  const mask = new Uint8Array(plan.ids.length);
  const stack = [target];
  mask[target] = 1;
  while (stack.length > 0) {
    for (const p of plan.parents[stack.pop()!]!) {
      if (mask[p] === 0) {
        mask[p] = 1;
        stack.push(p);
      }
    }
  }
  return mask;
}

/** Marks node `from` and all its descendants with 1. */
export function descendantMask(plan: DagPlan, from: number): Uint8Array {
  const mask = new Uint8Array(plan.ids.length);
  const stack = [from];
  mask[from] = 1;
  while (stack.length > 0) {
    for (const c of plan.children[stack.pop()!]!) {
      if (mask[c] === 0) {
        mask[c] = 1;
        stack.push(c);
      }
    }
  }
  return mask;
}
