import assert from "node:assert/strict";
import { join } from "node:path";
import { compileText, issuesOf, positionOf } from "../testdata/_compile_helpers.ts";
import { WorkflowSyntaxError } from "../errors.ts";
import { loadWorkflow } from "./load_workflow.ts";
import { renderGraph } from "./render_graph.ts";

const HEAD = "name: demo\nversion: 1.0.0\n";

Deno.test("`compileWorkflow()` compiles map, workflow, sleep and wait nodes", () => {
  const yaml = `${HEAD}config: { maxParallel: 6 }\nnodes:\n  a: { path: ./nodes/a.ts }\n` +
    "  b: { path: ./nodes/b.ts, map: { over: prs, concurrency: 3 } }\n" +
    '  c: { path: ./nodes/c.ts, map: { over: "." } }\n' +
    "  enrich: { workflow: ../enrich, map: { over: users } }\n" +
    "  nap: { sleep: 10m }\n" +
    "  approve: { wait: { event: approval, timeout: 48h } }\n" +
    "  forever: { wait: { event: go } }\n" +
    "edges:\n  - { from: a, to: b }\n  - { from: b, to: c }\n  - { from: a, to: enrich }\n" +
    "  - { from: c, to: nap }\n  - { from: nap, to: approve }\n  - { from: approve, to: forever }\n" +
    "concurrency: { key: /tenant, maxRuns: 2, maxRunsTotal: 5 }\n";
  const wf = compileText(yaml);
  assert.deepEqual(wf.nodes.b!.map, { over: "prs", concurrency: 3 });
  assert.deepEqual(wf.nodes.c!.map, { over: ".", concurrency: 6 });
  assert.equal(wf.nodes.enrich!.kind, "workflow");
  assert.equal(wf.nodes.enrich!.workflow, "/enrich");
  assert.deepEqual(wf.nodes.enrich!.map, { over: "users", concurrency: 6 });
  assert.equal(wf.nodes.nap!.kind, "sleep");
  assert.equal(wf.nodes.nap!.sleepMs, 600_000);
  assert.equal(wf.nodes.approve!.kind, "wait");
  assert.deepEqual(wf.nodes.approve!.wait, { event: "approval", timeoutMs: 172_800_000 });
  assert.deepEqual(wf.nodes.forever!.wait, { event: "go" });
  assert.equal(wf.concurrency?.key, "/tenant");
  assert.equal(wf.concurrency?.maxRunsTotal, 5);
  assert.equal(wf.concurrency?.maxRuns, 2);
  const mermaid = renderGraph(wf);
  for (
    const part of [
      'n1[/"b (map over prs)"\\]',
      'n3{{"enrich (map over users; workflow ../enrich)"}}',
      'n4(("nap (sleep 10m)"))',
      'n5>"approve (wait approval, timeout 2d)"]',
    ]
  ) assert.ok(mermaid.includes(part), `${part} not in\n${mermaid}`);
  const dot = renderGraph(wf, { format: "dot" });
  for (
    const part of [
      '"b" [label="b (map over prs)", shape=box3d]',
      "shape=hexagon",
      '"nap" [label="nap (sleep 10m)", shape=circle]',
      "shape=invhouse",
    ]
  ) assert.ok(dot.includes(part), `${part} not in\n${dot}`);
});

interface Case {
  name: string;
  yaml: string;
  at: string;
  nth?: number;
  message: string;
  hint: string;
}

const nodes = (body: string, edges = "") =>
  `${HEAD}nodes:\n${body}${edges ? `edges:\n${edges}` : ""}`;
const CASES: Case[] = [
  {
    name: "map without a parent",
    yaml: nodes("  a: { path: ./nodes/a.ts, map: { over: items } }\n"),
    at: "map",
    message: 'Map node "a" has no parent',
    hint: "Add an edge from the node whose output holds the array",
  },
  {
    name: "map with two parents",
    yaml: nodes(
      "  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts }\n  c: { path: ./nodes/c.ts, map: { over: x } }\n",
      "  - { from: a, to: c }\n  - { from: b, to: c }\n",
    ),
    at: "map",
    message: 'Map node "c" has 2 parents',
    hint: "keep one edge into it",
  },
  {
    name: "map without over",
    yaml: nodes(
      "  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts, map: { concurrency: 2 } }\n",
      "  - { from: a, to: b }\n",
    ),
    at: "{ concurrency",
    message: 'Map node "b" has no "over"',
    hint: 'over: "."',
  },
  {
    name: "map with a bad concurrency",
    yaml: nodes(
      "  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts, map: { over: x, concurrency: 0 } }\n",
      "  - { from: a, to: b }\n",
    ),
    at: "0 }",
    message: '"concurrency" must be 1 to 100000, got 0',
    hint: "concurrency: 8",
  },
  {
    name: "unknown map key",
    yaml: nodes(
      "  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts, map: { over: x, parallel: 2 } }\n",
      "  - { from: a, to: b }\n",
    ),
    at: "parallel",
    message: 'Unknown map key "parallel"',
    hint: "",
  },
  {
    name: "map on a sleep",
    yaml: nodes(
      "  a: { path: ./nodes/a.ts }\n  b: { sleep: 1m, map: { over: x } }\n",
      "  - { from: a, to: b }\n",
    ),
    at: "map",
    message: 'Node "b" cannot map a sleep',
    hint: "Map a code node or a sub-workflow",
  },
  {
    name: "path and sleep",
    yaml: nodes("  a: { path: ./nodes/a.ts, sleep: 1m }\n"),
    at: "sleep",
    message: 'Node "a" has both path and sleep',
    hint: "A node is exactly one of",
  },
  {
    name: "bad sleep duration",
    yaml: nodes("  a: { sleep: soon }\n"),
    at: "soon",
    message: 'Invalid duration "soon"',
    hint: "",
  },
  {
    name: "wait without event",
    yaml: nodes("  a: { wait: { timeout: 1h } }\n"),
    at: "{ timeout",
    message: 'Wait node "a" has no event',
    hint: "wait: { event: approval, timeout: 48h }",
  },
  {
    name: "wait as a string",
    yaml: nodes("  a: { wait: approval }\n"),
    at: "approval",
    message: 'Expected a map for "wait" of node "a"',
    hint: "wait: { event: approval",
  },
  {
    name: "bad event name",
    yaml: nodes('  a: { wait: { event: "a/b" } }\n'),
    at: '"a/b"',
    message: 'Invalid event name "a/b"',
    hint: "/runs/:id/events/:event",
  },
  {
    name: "bad wait timeout",
    yaml: nodes("  a: { wait: { event: go, timeout: 0s } }\n"),
    at: "0s",
    message: '"timeout" must be at least 1ms',
    hint: "",
  },
  {
    name: "workflow pointing at itself",
    yaml: nodes("  a: { workflow: . }\n"),
    at: ". }",
    message: 'Cycle: node "a" runs its own workflow',
    hint: "another workflow directory",
  },
  {
    name: "node with nothing to run",
    yaml: nodes("  a: { timeout: 5s }\n"),
    at: "a:",
    message: 'Node "a" has neither path nor command',
    hint: "sleep: 10m",
  },
];

for (const c of CASES) {
  Deno.test(`\`compileWorkflow()\` rejects ${c.name} at its position with a hint`, () => {
    const issues = issuesOf(c.yaml);
    const at = positionOf(c.yaml, c.at, c.nth);
    const issue = issues.find((i) => i.message.startsWith(c.message));
    assert.ok(issue, `no "${c.message}" in ${JSON.stringify(issues, null, 1)}`);
    assert.deepEqual({ line: issue.line, column: issue.column }, at, c.message);
    assert.ok(issue.hint?.includes(c.hint), `hint "${issue.hint}" lacks "${c.hint}"`);
    assert.equal(issues.length, 1, JSON.stringify(issues, null, 1));
  });
}

async function writeProject(root: string, name: string, yaml: string): Promise<string> {
  const dir = join(root, name);
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  await Deno.writeTextFile(join(dir, "workflow.yaml"), `name: ${name}\nversion: 1.0.0\n${yaml}`);
  await Deno.writeTextFile(join(dir, "nodes/a.ts"), "export default (_ctx, input) => input;\n");
  return dir;
}

Deno.test("`loadWorkflow()` loads sub-workflows and rejects a cycle between workflows with its path", async () => {
  const root = await Deno.makeTempDir();
  try {
    const parent = await writeProject(root, "parent", "nodes:\n  call: { workflow: ../child }\n");
    await writeProject(
      root,
      "child",
      "nodes:\n  a: { path: ./nodes/a.ts }\n  b: { workflow: ../leaf }\nedges: [{ from: a, to: b }]\n",
    );
    await writeProject(root, "leaf", "nodes:\n  a: { path: ./nodes/a.ts }\n");
    const wf = await loadWorkflow(parent);
    assert.deepEqual(Object.keys(wf.subWorkflows ?? {}).sort(), [
      join(root, "child"),
      join(root, "leaf"),
    ]);
    assert.equal(wf.subWorkflows![join(root, "leaf")]!.name, "leaf");

    await writeProject(root, "leaf", "nodes:\n  back: { workflow: ../parent }\n");
    const error = await loadWorkflow(parent).catch((e) => e);
    assert.ok(error instanceof WorkflowSyntaxError, String(error));
    const issue = error.issues.find((i) => i.message.startsWith("Cycle between workflows"));
    assert.ok(issue, JSON.stringify(error.issues));
    assert.equal(issue.message, "Cycle between workflows: . → ../child → ../leaf → .");
    assert.equal(issue.file, "../leaf/workflow.yaml");
    assert.deepEqual([issue.line, issue.column], [4, 21]);

    await writeProject(root, "parent", "nodes:\n  call: { workflow: ../missing }\n");
    const missing = await loadWorkflow(parent).catch((e) => e);
    assert.ok(missing instanceof WorkflowSyntaxError);
    assert.match(
      missing.issues[0]!.message,
      /^Cannot load sub-workflow "..\/missing" of node "call": /,
    );
    assert.deepEqual([missing.issues[0]!.line, missing.issues[0]!.column], [4, 21]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
