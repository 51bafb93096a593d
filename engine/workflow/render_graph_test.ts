import assert from "node:assert/strict";
import { renderGraph } from "./render_graph.ts";
import { compileText } from "../testdata/_compile_helpers.ts";

const WORKFLOW = compileText(
  `name: digest
version: 1.2.0
triggers:
  - type: manual
  - type: cron
    schedule: "0 9 * * 1-5"
    timezone: Europe/Paris
  - type: queue
    subject: events.push
nodes:
  fetch: { path: ./nodes/a.ts }
  convert:
    command: [python3, ./nodes/convert.py]
    capabilities: { run: [python3] }
  end: { path: ./nodes/b.ts }
  notify-failure: { path: ./nodes/notify-failure.ts }
edges:
  - { from: fetch, to: convert }
  - { from: convert, to: end }
  - { from: fetch, to: end }
onError: notify-failure
`,
  { "nodes/convert.py": "print('{}')\n" },
);

Deno.test("`renderGraph()` renders a Mermaid flowchart by default", () => {
  assert.equal(
    renderGraph(WORKFLOW),
    `flowchart LR
  %% digest 1.2.0
  start(["manual<br/>cron 0 9 * * 1-5 (Europe/Paris)<br/>queue events.push"])
  n0["fetch"]
  n1[["convert"]]
  n2["end"]
  start --> n0
  n0 --> n1
  n1 --> n2
  n0 --> n2
  %% onError: notify-failure runs when a run fails
  onError["notify-failure (onError)"]
  classDef onError stroke-dasharray: 5 5
  class onError onError
`,
  );
});

Deno.test("`renderGraph()` renders Graphviz dot", () => {
  assert.equal(
    renderGraph(WORKFLOW, { format: "dot" }),
    `digraph "digest" {
  rankdir=LR;
  node [shape=box];
  "__triggers" [label="manual\\ncron 0 9 * * 1-5 (Europe/Paris)\\nqueue events.push", shape=oval];
  "fetch";
  "convert" [shape=component];
  "end";
  "__triggers" -> "fetch";
  "fetch" -> "convert";
  "convert" -> "end";
  "fetch" -> "end";
  // onError: notify-failure runs when a run fails
  "notify-failure" [label="notify-failure (onError)", style=dashed];
}
`,
  );
});

Deno.test("`renderGraph()` draws no start node for a workflow without triggers", () => {
  const workflow = compileText(
    "name: bare\nversion: 1.0.0\ntriggers: []\nnodes:\n  a: { path: ./nodes/a.ts }\n" +
      "  b: { path: ./nodes/b.ts }\n",
  );
  assert.equal(renderGraph(workflow), 'flowchart LR\n  %% bare 1.0.0\n  n0["a"]\n  n1["b"]\n');
  assert.equal(
    renderGraph(workflow, { format: "dot" }),
    'digraph "bare" {\n  rankdir=LR;\n  node [shape=box];\n  "a";\n  "b";\n}\n',
  );
});

Deno.test("`renderGraph()` rejects an unknown format", () => {
  assert.throws(
    () => renderGraph(WORKFLOW, { format: "svg" as "dot" }),
    (error: unknown) =>
      error instanceof RangeError &&
      error.message === 'Cannot render graph: unknown format "svg", use "mermaid" or "dot"',
  );
});
