/**
 * `layoutGraph()`: coordinates of a workflow's DAG drawn left to right, computed on the server
 * with dagre so the browser code stays dependency-free (it only draws boxes and paths).
 *
 * @module
 */

import dagre from "@dagrejs/dagre";
import type { CompiledWorkflow } from "../engine/mod.ts";

/** A node box; `x`/`y` are its top-left corner. */
export interface LayoutNode {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The workflow's onError node: drawn apart, below the DAG, with no edges. */
  onError?: true;
}

/** An edge as a polyline from the middle of the parent's right side to the child's left side. */
export interface LayoutEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

/** The whole drawing: every node and edge inside a `width` × `height` canvas. */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

/** What {@link layoutGraph} reads of a workflow. */
export type LayoutInput = Pick<CompiledWorkflow, "order" | "edges"> & {
  onError?: { id: string };
};

/** Box height: the node id and one status line. */
export const NODE_HEIGHT = 56;
const MIN_WIDTH = 168;
const MAX_WIDTH = 300;
/** Average advance of the 14px id font, generous so ids are not clipped. */
const CHAR_WIDTH = 8.4;
const MARGIN = 16;
const ON_ERROR_GAP = 32;

/** Width of the box of node `id` (long ids are ellipsised by the browser beyond the maximum). */
export function nodeWidth(id: string): number {
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.ceil(id.length * CHAR_WIDTH) + 40));
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Lays the DAG out left to right (roots on the left, sinks on the right) with dagre; the onError
 * node, which has no edges, is placed below the DAG. Deterministic: the same workflow always
 * gives the same coordinates.
 *
 * @param workflow A compiled workflow (only `order`, `edges` and `onError` are read).
 * @returns Box coordinates (top-left corners) and edge polylines, rounded to 0.1 px.
 * @throws {TypeError} When an edge names a node that is not in `order`.
 * @example
 * ```ts
 * const layout = layoutGraph({ order: ["a", "b"], edges: [{ from: "a", to: "b" }] });
 * console.log(layout.nodes[1]!.x > layout.nodes[0]!.x); // true
 * ```
 */
export function layoutGraph(workflow: LayoutInput): GraphLayout {
  const known = new Set(workflow.order);
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({
    rankdir: "LR",
    nodesep: 24,
    ranksep: 56,
    edgesep: 12,
    marginx: MARGIN,
    marginy: MARGIN,
  });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const id of workflow.order) graph.setNode(id, { width: nodeWidth(id), height: NODE_HEIGHT });
  for (const edge of workflow.edges) {
    for (const end of [edge.from, edge.to]) {
      if (!known.has(end)) {
        throw new TypeError(`Cannot lay out graph: edge node "${end}" is not in the workflow`);
      }
    }
    graph.setEdge(edge.from, edge.to);
  }
  dagre.layout(graph);

  const nodes: LayoutNode[] = workflow.order.map((id) => {
    const n = graph.node(id);
    return {
      id,
      x: round(n.x - n.width / 2),
      y: round(n.y - n.height / 2),
      width: n.width,
      height: n.height,
    };
  });
  // Edges leave a box in the middle of its right side and enter the next box in the middle of
  // its left side (dagre would clip them at any side, corners included); dagre's inner bend
  // points are kept.
  const edges: LayoutEdge[] = workflow.edges.map(({ from, to }) => {
    const a = graph.node(from);
    const b = graph.node(to);
    const bends = (graph.edge(from, to) as { points?: { x: number; y: number }[] }).points ?? [];
    const inner = bends.slice(1, -1).map((p) => ({ x: round(p.x), y: round(p.y) }));
    return {
      from,
      to,
      points: [
        { x: round(a.x + a.width / 2), y: round(a.y) },
        ...inner,
        { x: round(b.x - b.width / 2), y: round(b.y) },
      ],
    };
  });
  const size = graph.graph();
  let width = Math.ceil(size.width ?? 0);
  let height = Math.ceil(size.height ?? 0);
  if (workflow.onError) {
    const id = workflow.onError.id;
    const box = { id, x: MARGIN, y: height - MARGIN + ON_ERROR_GAP, height: NODE_HEIGHT };
    const onError: LayoutNode = { ...box, width: nodeWidth(`${id} (onError)`), onError: true };
    nodes.push(onError);
    width = Math.max(width, onError.x + onError.width + MARGIN);
    height = onError.y + NODE_HEIGHT + MARGIN;
  }
  return { width, height, nodes, edges };
}
