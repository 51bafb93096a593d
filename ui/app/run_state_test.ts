import assert from "node:assert/strict";
import type { NodeRecord, RunRecord } from "../../engine/mod.ts";
import type { RunSummary } from "../../store/mod.ts";
import { describeWorkflow } from "../describe_workflow.ts";
import { DIAMOND } from "../testdata/_workflows.ts";
import { applyRunEvent, mergeRunIntoPage, nodeInput } from "./run_state.ts";

const NODES = describeWorkflow(DIAMOND).nodes;

function run(nodes: Record<string, NodeRecord>, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: "r1",
    workflow: "diamond",
    version: "2.1.0",
    status: "running",
    input: { repo: "x" },
    nodes,
    ...extra,
  };
}

function summary(runId: string, status: RunSummary["status"]): RunSummary {
  return { runId, workflow: "diamond", version: "2.1.0", status, input: {} };
}

Deno.test("`applyRunEvent()` applies node, run and end events without mutating", () => {
  const start = run({ fetch: { status: "running", attempts: 1 } });
  const afterNode = applyRunEvent(start, {
    type: "node",
    runId: "r1",
    nodeId: "fetch",
    node: { status: "succeeded", attempts: 2, output: 1 },
  });
  assert.equal(start.nodes.fetch!.status, "running");
  assert.deepEqual(afterNode.nodes.fetch, { status: "succeeded", attempts: 2, output: 1 });
  const { nodes: _n, ...rest } = afterNode;
  const afterRun = applyRunEvent(afterNode, { type: "run", record: { ...rest, status: "failed" } });
  assert.equal(afterRun.status, "failed");
  assert.equal(afterRun.nodes, afterNode.nodes, "a run event keeps the node records");
  const final = run({}, { status: "cancelled" });
  assert.equal(applyRunEvent(afterRun, { type: "end", record: final }), final);
});

Deno.test("`applyRunEvent()` keeps a finished run finished against late node and run events", () => {
  const done = run({ post: { status: "succeeded", attempts: 1 } }, { status: "succeeded" });
  // The answer to an approval can arrive after the stream's end event.
  const { nodes: _n, ...stale } = run({}, { status: "running" });
  assert.equal(applyRunEvent(done, { type: "run", record: stale }), done);
  assert.equal(
    applyRunEvent(done, {
      type: "node",
      runId: "r1",
      nodeId: "post",
      node: { status: "running", attempts: 1 },
    }),
    done,
  );
  const final = run({}, { status: "succeeded", result: 1 });
  assert.equal(applyRunEvent(done, { type: "end", record: final }), final);
});

Deno.test("`applyRunEvent()` ignores events of other runs", () => {
  const record = run({});
  const other = { ...run({}), runId: "r2" };
  assert.equal(
    applyRunEvent(record, {
      type: "node",
      runId: "r2",
      nodeId: "a",
      node: { status: "running", attempts: 1 },
    }),
    record,
  );
  assert.equal(applyRunEvent(record, { type: "run", record: other }), record);
  assert.equal(applyRunEvent(record, { type: "end", record: other }), record);
});

Deno.test("`mergeRunIntoPage()` updates, inserts, drops and caps as the list requires", () => {
  const page = [summary("b", "running"), summary("a", "succeeded")];
  const table: [string, RunSummary, Parameters<typeof mergeRunIntoPage>[2], string[]][] = [
    ["updates in place", summary("b", "failed"), {}, ["b:failed", "a:succeeded"]],
    ["adds a new run on top", summary("c", "queued"), {}, ["c:queued", "b:running", "a:succeeded"]],
    ["caps at the page size", summary("c", "queued"), { limit: 2 }, ["c:queued", "b:running"]],
    ["no new runs on later pages", summary("c", "queued"), { firstPage: false }, [
      "b:running",
      "a:succeeded",
    ]],
    ["updates on later pages", summary("a", "failed"), { firstPage: false }, [
      "b:running",
      "a:failed",
    ]],
    ["drops what leaves the filter", summary("b", "succeeded"), { status: "running" }, [
      "a:succeeded",
    ]],
    ["skips what does not match", summary("c", "queued"), { status: "failed,cancelled" }, [
      "b:running",
      "a:succeeded",
    ]],
    ["adds what matches one of several", summary("c", "failed"), { status: "failed,running" }, [
      "c:failed",
      "b:running",
      "a:succeeded",
    ]],
  ];
  for (const [name, change, options, expected] of table) {
    const next = mergeRunIntoPage(page, change, options);
    assert.deepEqual(next.map((r) => `${r.runId}:${r.status}`), expected, name);
  }
  assert.deepEqual(page.map((r) => r.status), ["running", "succeeded"], "the input list changed");
});

Deno.test("`nodeInput()` derives each node's input as the executor builds it", () => {
  const record = run({
    fetch: { status: "succeeded", attempts: 1, output: { items: 3 } },
    a: { status: "succeeded", attempts: 1, output: "A" },
    b: { status: "failed", attempts: 2, error: { message: "boom", stack: "at b" } },
    join: { status: "running", attempts: 1 },
  });
  assert.deepEqual(nodeInput(NODES, record, "fetch"), { known: true, value: { repo: "x" } });
  assert.deepEqual(nodeInput(NODES, record, "a"), { known: true, value: { items: 3 } });
  // b may fail (allowFailure): its children get { error: { message } }.
  assert.deepEqual(nodeInput(NODES, record, "join"), {
    known: true,
    value: { a: "A", b: { error: { message: "boom" } } },
  });
});

Deno.test("`nodeInput()` leaves out parents that routed elsewhere or were skipped", () => {
  const record = run({
    fetch: { status: "succeeded", attempts: 1, output: 1, routes: ["a"] },
    a: { status: "succeeded", attempts: 1, output: "A" },
    b: { status: "skipped", attempts: 0 },
    join: { status: "succeeded", attempts: 1, output: "J" },
  });
  assert.deepEqual(nodeInput(NODES, record, "join"), { known: true, value: { a: "A" } });
  assert.deepEqual(nodeInput(NODES, record, "b"), {
    known: false,
    reason: "skipped nodes receive no input",
  });
});

Deno.test("`nodeInput()` says why an input is unknown", () => {
  const record = run({ fetch: { status: "pending", attempts: 0 } });
  const table: [string, string][] = [
    ["fetch", "the node has not started"],
    ["a", "the node has not started"],
    ["ghost", "the node is not in the current workflow version"],
    ["notify", "the node has not started"],
  ];
  for (const [node, reason] of table) {
    assert.deepEqual(nodeInput(NODES, record, node), { known: false, reason }, node);
  }
});

Deno.test("`nodeInput()` gives the onError node the run's failure", () => {
  const record = run(
    { notify: { status: "running", attempts: 1 } },
    { status: "failed", error: { node: "fetch", message: "503" } },
  );
  assert.deepEqual(nodeInput(NODES, record, "notify"), {
    known: true,
    value: { runId: "r1", failedNode: "fetch", error: { message: "503" }, input: { repo: "x" } },
  });
  const early = run({ notify: { status: "running", attempts: 1 } });
  assert.equal(nodeInput(NODES, early, "notify").known, false);
});
