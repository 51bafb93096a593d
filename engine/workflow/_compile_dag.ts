/**
 * `edges:` → the DAG: parents and children in declaration order, roots, sinks and a stable
 * topological order (Kahn's algorithm with a heap on declaration index, O((n + e) log n)).
 * A cycle is reported with its path.
 *
 * @module
 */

import type { Edge } from "../workflow_model.ts";
import type { LocatedEntry, SourcePosition } from "./located_types.ts";
import type { Checker } from "./_checker.ts";
import { describe } from "./_located.ts";
import { closest } from "./_suggest.ts";

/** The DAG over the declared nodes. */
export interface Dag {
  edges: Edge[];
  parents: Record<string, string[]>;
  children: Record<string, string[]>;
  roots: string[];
  sinks: string[];
  order: string[];
}

const EDGE_MISPLACED: Record<string, string> = {
  source: "Write from: <node>",
  target: "Write to: <node>",
  when: "Edges have no conditions; a node chooses its children at run time with ctx.route()",
  condition: "Edges have no conditions; a node chooses its children at run time with ctx.route()",
};
/** Unknown ids get a "Did you mean" only for the first few: each costs a scan of all ids. */
const MAX_SUGGESTIONS = 20;
const MAX_CYCLES = 10;

/** Builds the DAG of `ids` (declaration order) from `edges:`; onError must stay outside it. */
export function compileDag(
  checker: Checker,
  edgesEntry: LocatedEntry | undefined,
  ids: readonly string[],
  onError: string | undefined,
): Dag {
  const index = new Map(ids.map((id, i) => [id, i]));
  const children: number[][] = ids.map(() => []);
  const parents: number[][] = ids.map(() => []);
  const edges: Edge[] = [];
  /** Position of each edge, keyed by `from * n + to` (indexes). */
  const edgePositions = new Map<number, SourcePosition>();
  let suggestions = 0;
  const known = (entry: LocatedEntry | undefined): number | undefined => {
    if (!entry) return undefined;
    const id = checker.string(entry, { nonEmpty: true, example: ids[0] ?? "fetch" });
    if (id === undefined) return undefined;
    if (id === onError) {
      checker.report(
        entry.value.pos,
        `Edge touches the onError node "${id}"`,
        "The onError node runs outside the DAG when a run fails: remove this edge",
      );
      return undefined;
    }
    const i = index.get(id);
    if (i !== undefined) return i;
    const match = suggestions++ < MAX_SUGGESTIONS ? closest(id, ids) : undefined;
    const hint = match ? `Did you mean "${match}"?` : "Declare the node under nodes: or fix the id";
    checker.report(entry.value.pos, `Unknown node "${id}" in edge`, hint);
    return undefined;
  };

  const list = edgesEntry?.value;
  if (list && list.kind !== "seq") {
    checker.report(
      list.pos,
      `Expected a list for "edges", got ${describe(list)}`,
      "Write edges: [{ from: a, to: b }]",
    );
  }
  const n = ids.length;
  for (const item of list?.kind === "seq" ? list.items : []) {
    if (item.kind !== "map") {
      checker.map(item, "an edge", "Write - { from: a, to: b }");
      continue;
    }
    let fromEntry: LocatedEntry | undefined;
    let toEntry: LocatedEntry | undefined;
    let unknownKeys = false;
    for (const entry of item.entries) {
      if (entry.key === "from") fromEntry = entry;
      else if (entry.key === "to") toEntry = entry;
      else unknownKeys = true;
    }
    if (unknownKeys) checker.keys(item, ["from", "to"], "edge key", EDGE_MISPLACED);
    if (!fromEntry) checker.report(item.pos, 'Edge has no "from"', "Write - { from: a, to: b }");
    if (!toEntry) checker.report(item.pos, 'Edge has no "to"', "Write - { from: a, to: b }");
    const from = known(fromEntry);
    const to = known(toEntry);
    if (from === undefined || to === undefined) continue;
    if (from === to) {
      checker.report(
        item.pos,
        `Edge from "${ids[from]}" to itself`,
        "Remove this edge: a node cannot depend on itself",
      );
      continue;
    }
    const key = from * n + to;
    const first = edgePositions.get(key);
    if (first) {
      checker.report(
        item.pos,
        `Duplicate edge ${ids[from]} → ${ids[to]}`,
        `Remove it: the edge is already declared on line ${first.line}`,
      );
      continue;
    }
    edgePositions.set(key, item.pos);
    edges.push({ from: ids[from]!, to: ids[to]! });
    children[from]!.push(to);
    parents[to]!.push(from);
  }

  const order = topologicalOrder(children, parents);
  if (order.length < ids.length) reportCycles(checker, ids, children, order, edgePositions);
  const dag: Dag = { edges, parents: {}, children: {}, roots: [], sinks: [], order: [] };
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    dag.parents[id] = parents[i]!.map((p) => ids[p]!);
    dag.children[id] = children[i]!.map((c) => ids[c]!);
    if (parents[i]!.length === 0) dag.roots.push(id);
    if (children[i]!.length === 0) dag.sinks.push(id);
  }
  dag.order = order.map((i) => ids[i]!);
  return dag;
}

/** Kahn's algorithm; among ready nodes the earliest declared goes first. */
function topologicalOrder(children: number[][], parents: number[][]): number[] {
  const pending = parents.map((p) => p.length);
  const ready = new MinHeap();
  for (const [i, count] of pending.entries()) if (count === 0) ready.push(i);
  const order: number[] = [];
  while (ready.size > 0) {
    const node = ready.pop();
    order.push(node);
    for (const child of children[node]!) if (--pending[child]! === 0) ready.push(child);
  }
  return order;
}

/** Finds cycles among the nodes Kahn's algorithm could not order (iterative DFS). */
function reportCycles(
  checker: Checker,
  ids: readonly string[],
  children: number[][],
  ordered: number[],
  edgePositions: Map<number, SourcePosition>,
): void {
  const state = new Uint8Array(ids.length); // 0 unvisited, 1 on the stack, 2 done
  for (const i of ordered) state[i] = 2;
  const stackIndex = new Int32Array(ids.length);
  const reported = new Set<string>();
  for (let start = 0; start < ids.length && reported.size < MAX_CYCLES; start++) {
    if (state[start] !== 0) continue;
    const stack: number[] = [start];
    const next: number[] = [0];
    state[start] = 1;
    stackIndex[start] = 0;
    while (stack.length > 0 && reported.size < MAX_CYCLES) {
      const top = stack.length - 1;
      const node = stack[top]!;
      const child = children[node]![next[top]!++];
      if (child === undefined) {
        state[node] = 2;
        stack.pop();
        next.pop();
      } else if (state[child] === 1) {
        const cycle = stack.slice(stackIndex[child]);
        const first = cycle.indexOf(cycle.reduce((a, b) => Math.min(a, b)));
        const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
        const key = rotated.join(",");
        if (reported.has(key)) continue;
        reported.add(key);
        const names = rotated.map((i) => ids[i]!);
        const last = names.at(-1)!;
        checker.report(
          edgePositions.get(rotated.at(-1)! * ids.length + rotated[0]!) ?? { line: 0, column: 0 },
          `Cycle: ${[...names, names[0]].join(" → ")}`,
          `Remove one of its edges, e.g. { from: ${last}, to: ${names[0]} }`,
        );
      } else if (state[child] === 0) {
        state[child] = 1;
        stackIndex[child] = stack.length;
        stack.push(child);
        next.push(0);
      }
    }
  }
}

/** A binary min-heap of node indexes. */
class MinHeap {
  #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const smaller = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[smaller]! >= last) break;
        items[i] = items[smaller]!;
        i = smaller;
      }
      items[i] = last;
    }
    return top;
  }
}
