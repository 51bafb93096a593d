import assert from "node:assert/strict";
import { createInProcessRunner } from "./in_process_runner.ts";
import { loadWorkflow } from "./load_workflow.ts";
import { type FixtureReport, type FixtureResult, runFixtures } from "./run_fixtures.ts";
import type { NodeRunner } from "./types.ts";

const DIR = new URL("./testdata/fixture_runner", import.meta.url).pathname;

async function run(options: Parameters<typeof runFixtures>[1] = {}): Promise<FixtureReport> {
  const workflow = await loadWorkflow(DIR);
  const runner = createInProcessRunner();
  try {
    return await runFixtures(workflow, { runner, secrets: {}, ...options });
  } finally {
    await runner.close();
  }
}

function byName(report: FixtureReport): Record<string, FixtureResult> {
  return Object.fromEntries(report.results.map((r) => [r.name, r]));
}

Deno.test("`runFixtures()` runs node fixtures alone, then pipeline fixtures, in name order", async () => {
  const report = await run();
  assert.deepEqual(report.results.map((r) => [r.name, r.kind, r.node]), [
    ["fixtures/left", "node", "left"],
    ["fixtures/nope", "node", "nope"],
    ["fixtures/pick", "node", "pick"],
    ["fixtures/pick.leak", "node", "pick"],
    ["fixtures/pick.undeclared", "node", "pick"],
    ["fixtures/pick.wrong-route", "node", "pick"],
    ["fixtures/right", "node", "right"],
    ["pipeline/expects-success", "pipeline", undefined],
    ["pipeline/fails", "pipeline", undefined],
  ]);
  assert.equal(report.workflow, "fixture-runner");
  assert.equal(report.passed, 3);
  assert.equal(report.failed, 6);
  const results = byName(report);
  // pick's parent "boom" always throws: a node fixture never runs it.
  assert.equal(results["fixtures/pick"]?.passed, true, results["fixtures/pick"]?.failure ?? "");
  assert.equal(results["fixtures/right"]?.passed, true);
  assert.equal(results["pipeline/fails"]?.passed, true, results["pipeline/fails"]?.failure ?? "");
});

Deno.test("`runFixtures()` explains each kind of failure", async () => {
  const results = byName(await run());
  const failure = (name: string) => results[name]?.failure ?? "";
  assert.match(failure("fixtures/left"), /^Cannot read fixture: unknown key "expect"/);
  assert.match(failure("fixtures/nope"), /no node "nope".*nodes: boom, pick, left, right/);
  assert.equal(
    failure("fixtures/pick.wrong-route"),
    "expected ctx.route(left), got ctx.route(right)",
  );
  assert.match(failure("fixtures/pick.undeclared"), /Cannot route from node "pick" to "nowhere"/);
  assert.equal(failure("pipeline/expects-success"), 'failed: node "boom": boom ran');
});

Deno.test("`runFixtures()` diffs a mismatch with the fixture's secrets redacted", async () => {
  const leak = byName(await run())["fixtures/pick.leak"];
  assert.equal(leak?.passed, false);
  assert.equal(leak?.failure, "output does not match expected");
  const diff = leak?.diff ?? "";
  assert.ok(!diff.includes("s3cr3t-token"), diff);
  assert.match(diff, /^- {2}"token": "other"$/m);
  assert.match(diff, /^\+ {2}"token": "\[REDACTED\]"$/m);
});

Deno.test("`runFixtures()` filters by node and by kind", async () => {
  const node = await run({ node: "pick" });
  assert.deepEqual(node.results.map((r) => r.name), [
    "fixtures/pick",
    "fixtures/pick.leak",
    "fixtures/pick.undeclared",
    "fixtures/pick.wrong-route",
  ]);
  const pipeline = await run({ pipelineOnly: true });
  assert.deepEqual(pipeline.results.map((r) => r.kind), ["pipeline", "pipeline"]);
  await assert.rejects(run({ node: "nope" }), RangeError);
});

Deno.test("`runFixtures()` reports each result as it finishes and leaves a given runner open", async () => {
  const workflow = await loadWorkflow(DIR);
  const inner = createInProcessRunner();
  let closed = false;
  const runner: NodeRunner = {
    run: (call, signal) => inner.run(call, signal),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
  const seen: string[] = [];
  try {
    const report = await runFixtures(workflow, {
      runner,
      secrets: {},
      node: "right",
      onResult: (r) => seen.push(r.name),
    });
    assert.deepEqual(seen, report.results.map((r) => r.name));
    assert.equal(closed, false);
  } finally {
    await inner.close();
  }
});

Deno.test("`runFixtures()` stops starting fixtures once its signal is aborted", async () => {
  const controller = new AbortController();
  const report = await run({
    signal: controller.signal,
    onResult: () => controller.abort(),
  });
  assert.equal(report.results.length, 1);
});
