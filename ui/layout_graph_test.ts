import assert from "node:assert/strict";
import { type GraphLayout, layoutGraph, NODE_HEIGHT, nodeWidth } from "./layout_graph.ts";
import { DIAMOND, SINGLE } from "./testdata/_workflows.ts";

function box(layout: GraphLayout, id: string) {
  const node = layout.nodes.find((n) => n.id === id);
  assert.ok(node, `no box for "${id}"`);
  return node;
}

function overlaps(a: { x: number; y: number; width: number; height: number }, b: typeof a) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

Deno.test("`layoutGraph()` draws every edge left to right", () => {
  const layout = layoutGraph(DIAMOND);
  for (const edge of DIAMOND.edges) {
    const from = box(layout, edge.from);
    const to = box(layout, edge.to);
    assert.ok(from.x + from.width <= to.x, `${edge.from} is not left of ${edge.to}`);
  }
});

Deno.test("`layoutGraph()` stacks siblings in one column without overlaps", () => {
  const layout = layoutGraph(DIAMOND);
  const a = box(layout, "a");
  const b = box(layout, "b");
  assert.equal(a.x + a.width / 2, b.x + b.width / 2);
  assert.notEqual(a.y, b.y);
  for (const [i, n] of layout.nodes.entries()) {
    for (const m of layout.nodes.slice(i + 1)) {
      assert.ok(!overlaps(n, m), `${n.id} overlaps ${m.id}`);
    }
  }
});

Deno.test("`layoutGraph()` keeps every box and edge point inside the canvas", () => {
  const layout = layoutGraph(DIAMOND);
  for (const n of layout.nodes) {
    assert.ok(n.x >= 0 && n.y >= 0, `${n.id} starts outside`);
    assert.ok(
      n.x + n.width <= layout.width && n.y + n.height <= layout.height,
      `${n.id} ends outside`,
    );
  }
  for (const e of layout.edges) {
    for (const p of e.points) {
      assert.ok(p.x >= 0 && p.x <= layout.width && p.y >= 0 && p.y <= layout.height);
    }
  }
});

Deno.test("`layoutGraph()` runs each edge from the parent's right side to the child's left side", () => {
  const layout = layoutGraph(DIAMOND);
  assert.equal(layout.edges.length, DIAMOND.edges.length);
  for (const edge of layout.edges) {
    const from = box(layout, edge.from);
    const to = box(layout, edge.to);
    const first = edge.points[0]!;
    const last = edge.points.at(-1)!;
    assert.ok(edge.points.length >= 2);
    assert.deepEqual(first, { x: from.x + from.width, y: from.y + from.height / 2 });
    assert.deepEqual(last, { x: to.x, y: to.y + to.height / 2 });
    for (const p of edge.points.slice(1, -1)) {
      assert.ok(p.x >= first.x && p.x <= last.x, `${edge.from}→${edge.to} bends backwards`);
    }
  }
});

Deno.test("`layoutGraph()` puts the onError node below the DAG, apart and marked", () => {
  const layout = layoutGraph(DIAMOND);
  const notify = box(layout, "notify");
  assert.equal(notify.onError, true);
  const dag = layout.nodes.filter((n) => !n.onError);
  assert.ok(dag.every((n) => n.y + n.height < notify.y), "onError node is not below the DAG");
  assert.ok(!layout.edges.some((e) => e.from === "notify" || e.to === "notify"));
  assert.ok(notify.x + notify.width <= layout.width);
});

Deno.test("`layoutGraph()` is deterministic and sizes boxes by id length", () => {
  assert.deepEqual(layoutGraph(DIAMOND), layoutGraph(DIAMOND));
  const layout = layoutGraph(SINGLE);
  assert.deepEqual(layout.nodes.map((n) => [n.id, n.width, n.height]), [
    ["only", nodeWidth("only"), NODE_HEIGHT],
  ]);
  assert.ok(nodeWidth("x".repeat(60)) > nodeWidth("x"));
  assert.equal(nodeWidth("x".repeat(500)), nodeWidth("x".repeat(600)), "width is capped");
});

Deno.test("`layoutGraph()` rejects an edge to a node that is not in the workflow", () => {
  assert.throws(
    () => layoutGraph({ order: ["a"], edges: [{ from: "a", to: "ghost" }] }),
    {
      name: "TypeError",
      message: 'Cannot lay out graph: edge node "ghost" is not in the workflow',
    },
  );
});
