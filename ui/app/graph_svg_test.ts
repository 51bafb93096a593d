import assert from "node:assert/strict";
import type { NodeRecord } from "../../engine/mod.ts";
import { describeWorkflow } from "../describe_workflow.ts";
import { DIAMOND } from "../testdata/_workflows.ts";
import {
  edgePath,
  fitLabel,
  fitMeta,
  neighbour,
  nodeKindLine,
  nodeStatusLine,
  nodeStatusParts,
  renderGraphSvg,
} from "./graph_svg.ts";
import { attr, tagsWith, textOf } from "./testdata/_markup.ts";

const INFO = describeWorkflow(DIAMOND);

function nodeTag(svg: string, id: string): string {
  const [tag] = tagsWith(svg, "data-node", id);
  assert.ok(tag, `no node "${id}"`);
  return tag;
}

Deno.test("`renderGraphSvg()` labels every node with its status in words, not only colour", () => {
  const states: Record<string, NodeRecord> = {
    fetch: { status: "succeeded", attempts: 2, durationMs: 1200 },
    a: { status: "running", attempts: 1 },
    b: { status: "failed", attempts: 2, durationMs: 30 },
    join: { status: "skipped", attempts: 0 },
  };
  const svg = renderGraphSvg(INFO.layout, { nodes: INFO.nodes, states }).value;
  const table: [string, string, string][] = [
    ["fetch", "status-succeeded", "fetch: succeeded · 2 attempts · 1.2 s"],
    ["a", "status-running", "a: running"],
    ["b", "status-failed", "b: failed · 2 attempts · 30 ms"],
    ["join", "status-skipped", "join: skipped"],
    ["notify", "status-pending", "notify (onError node): pending"],
  ];
  for (const [id, cls, label] of table) {
    const tag = nodeTag(svg, id);
    assert.match(attr(tag, "class")!, new RegExp(`\\b${cls}\\b`), id);
    assert.equal(attr(tag, "aria-label"), label);
    assert.equal(attr(tag, "tabindex"), "0");
    assert.equal(attr(tag, "role"), "button");
  }
  const text = textOf(svg);
  // The box shows what fits; its tooltip keeps the whole line.
  assert.match(text, /✓ succeeded · 1\.2 s/);
  assert.match(svg, /<title>fetch: succeeded · 2 attempts · 1\.2 s<\/title>/);
  assert.match(text, /✕ failed/);
  assert.match(text, /↷ skipped/);
  assert.match(text, /notify \(onError\)/);
});

Deno.test("`renderGraphSvg()` marks the selection and dims edges that did not fire", () => {
  const states: Record<string, NodeRecord> = {
    fetch: { status: "succeeded", attempts: 1, routes: ["a"] },
    a: { status: "succeeded", attempts: 1, cached: true },
    b: { status: "skipped", attempts: 0 },
  };
  const svg = renderGraphSvg(INFO.layout, { nodes: INFO.nodes, states, selected: "a" }).value;
  assert.equal(attr(nodeTag(svg, "a"), "aria-pressed"), "true");
  assert.match(attr(nodeTag(svg, "a"), "class")!, /\bselected\b/);
  assert.equal(attr(nodeTag(svg, "fetch"), "aria-pressed"), "false");
  assert.match(attr(nodeTag(svg, "a"), "aria-label")!, /cached/);
  const edges = tagsWith(svg, "marker-end").map((t) => attr(t, "class"));
  assert.deepEqual(edges, [
    "edge edge-done",
    "edge edge-skipped",
    "edge edge-done",
    "edge edge-skipped",
  ]);
});

Deno.test("`renderGraphSvg()` draws the static workflow with kinds instead of statuses", () => {
  const svg = renderGraphSvg(INFO.layout, { nodes: INFO.nodes, label: "Graph of diamond" }).value;
  assert.match(svg, /role="group" aria-label="Graph of diamond"/);
  assert.equal(attr(nodeTag(svg, "fetch"), "aria-label"), "fetch: module · net");
  assert.equal(attr(nodeTag(svg, "b"), "aria-label"), "b: subprocess · run · may fail");
  assert.equal(attr(nodeTag(svg, "a"), "aria-label"), "a: module · cache");
  assert.ok(!svg.includes("pending"));
  assert.ok(tagsWith(svg, "marker-end").every((t) => attr(t, "class") === "edge"));
});

Deno.test("`renderGraphSvg()` escapes node ids", () => {
  const layout = {
    width: 200,
    height: 80,
    nodes: [{ id: 'x"><script>', x: 0, y: 0, width: 180, height: 56 }],
    edges: [],
  };
  const svg = renderGraphSvg(layout, { nodes: [] }).value;
  assert.ok(!svg.includes("<script>"));
  assert.match(svg, /data-node="x&quot;&gt;&lt;script&gt;"/);
});

Deno.test("status and kind lines, labels and edge paths", () => {
  assert.equal(nodeStatusLine(undefined), "pending");
  assert.equal(
    nodeStatusLine({ status: "running", attempts: 1, progress: { value: 0.5 } }),
    "running · 50%",
  );
  assert.equal(nodeKindLine(undefined), "not in this version");
  assert.equal(fitLabel("short", 168), "short");
  const long = fitLabel("a-very-long-node-identifier-indeed", 168);
  assert.ok(long.endsWith("…") && long.length === 16, long);
  assert.equal(edgePath([{ x: 0, y: 0 }, { x: 10, y: 20 }]), "M0 0 C5 0 5 20 10 20");
  assert.equal(edgePath([]), "");
});

Deno.test("`neighbour()` moves along edges and within columns", () => {
  const layout = INFO.layout;
  const y = (id: string) => layout.nodes.find((n) => n.id === id)!.y;
  const [upper, lower] = y("a") < y("b") ? ["a", "b"] : ["b", "a"];
  const table: [string, Parameters<typeof neighbour>[2], string | undefined][] = [
    ["fetch", "ArrowRight", upper], // both children are equally near: the upper one wins
    ["a", "ArrowRight", "join"],
    ["join", "ArrowLeft", upper],
    ["fetch", "ArrowLeft", undefined],
    ["join", "ArrowRight", undefined],
    [upper, "ArrowDown", lower],
    [lower, "ArrowUp", upper],
    [upper, "ArrowUp", undefined],
    ["fetch", "ArrowDown", "notify"],
    ["join", "Home", "fetch"],
    ["fetch", "End", "notify"],
    ["ghost", "ArrowRight", "fetch"],
  ];
  for (const [from, key, to] of table) {
    assert.equal(neighbour(layout, from, key), to, `${from} ${key}`);
  }
});

Deno.test("`fitMeta()` keeps the parts of a status line that fit; the drawing clips to the box", () => {
  assert.equal(fitMeta(["succeeded", "1.2 s"], 168), "succeeded · 1.2 s");
  assert.equal(
    fitMeta(["failed", "1 min 05 s", "12 attempts", "cached"], 168),
    "failed · 1 min 05 s",
  );
  assert.equal(fitMeta(["a-status-word-far-too-long-for-the-box"], 168), "a-status-word-far-t…");
  assert.equal(fitMeta([], 168), "");
  assert.deepEqual(
    nodeStatusParts({ status: "failed", attempts: 12, durationMs: 65_000, cached: true }),
    ["failed", "1 min 05 s", "12 attempts", "cached"],
  );
  const svg = renderGraphSvg(
    { width: 200, height: 80, edges: [], nodes: [{ id: "n", x: 0, y: 0, width: 168, height: 56 }] },
    {
      nodes: [],
      states: { n: { status: "failed", attempts: 12, durationMs: 65_000, cached: true } },
    },
  ).value;
  assert.match(
    svg,
    /<clipPath id="node-clip-0">\s*<rect x="0" y="0" width="162" height="56" \/>\s*<\/clipPath>/,
  );
  assert.match(svg, /<g clip-path="url\(#node-clip-0\)">/);
  assert.match(svg, /<title>n: failed · 12 attempts · 1 min 05 s · cached<\/title>/);
  assert.match(svg, /<\/tspan> failed · 1 min 05 s<\/text>/);
});
