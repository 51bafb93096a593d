import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { dag, deferred, testRunner, waitFor } from "../../testing/mod.ts";
import type { LogLine, NodeRecord, RunRecord } from "../run_record.ts";

Deno.test("`executeRun()` starts a node as soon as its parents are done (no stage barriers)", async () => {
  const slow = deferred<string>();
  const runner = testRunner({ c: () => slow.promise });
  const workflow = dag({ a: [], b: ["a"], c: ["a"], d: ["b"] });
  const run = executeRun(workflow, { runner });
  await waitFor(() => runner.calls.some((c) => c.node === "d"), "d to start");
  assert.ok(runner.running.has("c"), "c is still running while d started");
  slow.resolve("c-done");
  const record = await run;
  assert.equal(record.status, "succeeded");
  assert.deepEqual(record.result, { c: "c-done", d: "d" });
});

Deno.test("`executeRun()` runs at most settings.maxParallel nodes at once", async () => {
  const gate = deferred();
  const spec: Record<string, string[]> = {};
  for (let i = 0; i < 10; i++) spec[`n${i}`] = [];
  const runner = testRunner({}, { fallback: async (ctx) => (await gate.promise, ctx.node) });
  const run = executeRun(dag(spec, { settings: { maxParallel: 3 } }), { runner });
  await waitFor(() => runner.running.size === 3, "3 nodes running");
  assert.equal(runner.calls.length, 3);
  gate.resolve();
  const record = await run;
  assert.equal(record.status, "succeeded");
  assert.equal(runner.calls.length, 10);
  assert.equal(runner.maxRunning, 3);
});

Deno.test("`executeRun()` gives roots the input, one parent's output, or an object of parents", async () => {
  const runner = testRunner({}, { fallback: (ctx) => `${ctx.node}-out` });
  const workflow = dag({ a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: ["d"] });
  const record = await executeRun(workflow, { runner, input: { q: 1 } });
  const inputs = Object.fromEntries(runner.calls.map((c) => [c.node, c.input]));
  assert.deepEqual(inputs, {
    a: { q: 1 },
    b: "a-out",
    c: "a-out",
    d: { b: "b-out", c: "c-out" },
    e: "d-out",
  });
  assert.equal(record.result, "e-out");
});

Deno.test("`executeRun()` follows routes: skips unchosen branches, joins on fired parents", async () => {
  const runner = testRunner({ a: (ctx) => (ctx.route("b"), "a-out") }, {
    fallback: (ctx, input) => ({ node: ctx.node, input }),
  });
  // g joins a (which did not route to g) and b (which fired): it runs with { b } only.
  const workflow = dag({
    a: [],
    b: ["a"],
    c: ["a"],
    d: ["c"],
    e: ["b", "c"],
    f: ["c", "d"],
    g: ["a", "b"],
  });
  const record = await executeRun(workflow, { runner });
  const status = Object.fromEntries(Object.entries(record.nodes).map(([id, n]) => [id, n.status]));
  assert.deepEqual(status, {
    a: "succeeded",
    b: "succeeded",
    c: "skipped",
    d: "skipped",
    e: "succeeded",
    f: "skipped",
    g: "succeeded",
  });
  assert.deepEqual(record.nodes.a!.routes, ["b"]);
  const bOut = { node: "b", input: "a-out" };
  assert.deepEqual(record.result, {
    e: { node: "e", input: { b: bOut } },
    g: { node: "g", input: { b: bOut } },
  });
});

Deno.test("`executeRun()` fails a node that routes to a non-child and names the children", async () => {
  const runner = testRunner({ a: (ctx) => (ctx.route("nope"), 1) });
  const workflow = dag({ a: [], b: ["a"], c: ["a"] }, { nodes: { a: { retries: 3 } } });
  const record = await executeRun(workflow, { runner });
  assert.equal(record.status, "failed");
  assert.equal(record.nodes.a!.attempts, 1);
  assert.equal(
    record.error?.message,
    'Cannot route from node "a": "nope" is not a declared child; declared children: "b", "c"',
  );
});

Deno.test("`executeRun()` result is the single sink's output or an object of fired sinks", async (t) => {
  const cases: { name: string; spec: Record<string, string[]>; route?: string[]; want: unknown }[] =
    [
      { name: "one sink", spec: { a: [], b: ["a"] }, want: "b" },
      { name: "two sinks", spec: { a: [], b: ["a"], c: ["a"] }, want: { b: "b", c: "c" } },
      {
        name: "a skipped sink",
        spec: { a: [], b: ["a"], c: ["a"] },
        route: ["c"],
        want: { c: "c" },
      },
      { name: "the only sink skipped", spec: { a: [], b: ["a"] }, route: [], want: undefined },
    ];
  for (const { name, spec, route, want } of cases) {
    await t.step(name, async () => {
      const runner = testRunner({ a: (ctx) => (route && ctx.route(...route), "a") });
      const record = await executeRun(dag(spec), { runner });
      assert.equal(record.status, "succeeded");
      assert.deepEqual(record.result, want);
    });
  }
});

Deno.test("`executeRun()` with target runs only the target and its ancestors", async () => {
  const runner = testRunner({});
  const workflow = dag({ a: [], b: ["a"], c: ["b"], d: ["a"], x: [] });
  const record = await executeRun(workflow, { runner, target: "b" });
  assert.deepEqual(runner.calls.map((c) => c.node), ["a", "b"]);
  assert.deepEqual(Object.keys(record.nodes), ["a", "b"]);
  assert.equal(record.result, "b");
  await assert.rejects(
    executeRun(workflow, { runner, target: "zz" }),
    (e: Error) => e instanceof RangeError && /Cannot run target "zz"/.test(e.message),
  );
});

Deno.test("`executeRun()` calls hooks in transition order and awaits them", async () => {
  const events: string[] = [];
  const runner = testRunner({});
  const record = await executeRun(dag({ a: [], b: ["a"] }), {
    runner,
    runId: "r1",
    hooks: {
      onRunUpdate: (r) => void events.push(`run ${r.status}`),
      onNodeUpdate: async (runId, id, node: NodeRecord) => {
        await Promise.resolve();
        events.push(`${runId} ${id} ${node.status} ${node.attempts}`);
      },
    },
  });
  assert.deepEqual(events, [
    "run running",
    "r1 a running 1",
    "r1 a succeeded 1",
    "r1 b running 1",
    "r1 b succeeded 1",
    "run succeeded",
  ]);
  assert.equal(record.runId, "r1");
});

Deno.test("`executeRun()` rejects with a hook's error and cancels running nodes", async () => {
  const runner = testRunner({ b: () => new Promise(() => {}) });
  const run = executeRun(dag({ a: [], b: [] }), {
    runner,
    hooks: {
      onNodeUpdate: (_r, id, node) => {
        if (id === "a" && node.status === "succeeded") throw new Error("disk full");
      },
    },
  });
  await assert.rejects(run, /disk full/);
  assert.equal(runner.calls.find((c) => c.node === "b")?.signal.aborted, true);
});

Deno.test("`executeRun()` redacts error messages and log lines before hooks and the record", async () => {
  const lines: LogLine[] = [];
  const nodeErrors: string[] = [];
  const runner = testRunner({
    a: (ctx) => {
      ctx.log("token is s3cr3t", { auth: { header: "Bearer s3cr3t" }, n: 1 });
      return 1;
    },
    b: () => {
      throw new Error("bad token s3cr3t");
    },
  });
  const record = await executeRun(dag({ a: [], b: ["a"] }), {
    runner,
    redact: (s) => s.replaceAll("s3cr3t", "***"),
    hooks: {
      onLog: (line) => void lines.push(line),
      onNodeUpdate: (_r, _id, node) => void (node.error && nodeErrors.push(node.error.message)),
    },
  });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, "token is ***");
  assert.deepEqual(lines[0]!.fields, { auth: { header: "Bearer ***" }, n: 1 });
  assert.equal(record.error?.message, "bad token ***");
  assert.equal(record.nodes.b!.error?.message, "bad token ***");
  assert.ok(!record.nodes.b!.error?.stack?.includes("s3cr3t"));
  assert.deepEqual(nodeErrors, ["bad token ***"]);
});

Deno.test("`executeRun()` records progress and reports it through onNodeUpdate", async () => {
  const seen: unknown[] = [];
  const runner = testRunner({ a: (ctx) => (ctx.progress(0.5, "half"), "done") });
  const record = await executeRun(dag({ a: [] }), {
    runner,
    hooks: { onNodeUpdate: (_r, _id, node) => void (node.progress && seen.push(node.progress)) },
  });
  assert.deepEqual(record.nodes.a!.progress, { value: 0.5, message: "half" });
  assert.deepEqual(seen[0], { value: 0.5, message: "half" });
});

Deno.test("`executeRun()` passes config overlay, secrets and a per-run tmpDir it removes", async () => {
  let seen: { config: unknown; secrets: unknown; tmpDir: string } | undefined;
  const runner = testRunner({
    a: async (ctx) => {
      seen = { config: ctx.config, secrets: ctx.secrets, tmpDir: ctx.tmpDir };
      await Deno.writeTextFile(`${ctx.tmpDir}/x.txt`, "x");
      return 1;
    },
  });
  const workflow = dag({ a: [] }, { config: { region: "eu", level: 1 } });
  const record = await executeRun(workflow, {
    runner,
    config: { level: 2 },
    secrets: { github: { token: "t" } },
    trigger: "test",
  });
  assert.equal(record.status, "succeeded");
  assert.equal(record.trigger, "test");
  assert.deepEqual(seen?.config, { region: "eu", level: 2 });
  assert.deepEqual(seen?.secrets, { github: { token: "t" } });
  assert.match(seen!.tmpDir, /pipedreamer-run-/);
  await assert.rejects(Deno.stat(seen!.tmpDir), Deno.errors.NotFound);
});

Deno.test("`executeRun()` fills the run record of SPEC §6", async () => {
  const runner = testRunner({});
  const record: RunRecord = await executeRun(dag({ a: [] }), { runner, input: 5, runId: "id" });
  assert.deepEqual(Object.keys(record).sort(), [
    "codeHash",
    "durationMs",
    "finishedAt",
    "input",
    "nodes",
    "result",
    "runId",
    "startedAt",
    "status",
    "version",
    "workflow",
  ]);
  assert.equal(record.workflow, "test-flow");
  assert.equal(record.version, "1.0.0");
  assert.ok(!Number.isNaN(Date.parse(record.startedAt!)));
  assert.ok(!Number.isNaN(Date.parse(record.finishedAt!)));
  const a = record.nodes.a!;
  assert.equal(a.status, "succeeded");
  assert.equal(a.attempts, 1);
  assert.equal(a.output, "a");
  assert.equal(typeof a.durationMs, "number");
});

Deno.test("`executeRun()` runs a 10,000-node chain and a 10,000-wide fan-out", async (t) => {
  const n = 10_000;
  await t.step("chain", async () => {
    const spec: Record<string, string[]> = { n0: [] };
    for (let i = 1; i < n; i++) spec[`n${i}`] = [`n${i - 1}`];
    const runner = testRunner({}, { fallback: (_ctx, input) => (input as number) + 1 });
    const record = await executeRun(dag(spec), { runner, input: 0, tmpDir: "/tmp" });
    assert.equal(record.status, "succeeded");
    assert.equal(record.result, n);
  });
  await t.step("fan-out and join", async () => {
    const spec: Record<string, string[]> = { root: [] };
    const middle = Array.from({ length: n }, (_, i) => `m${i}`);
    for (const id of middle) spec[id] = ["root"];
    spec.join = middle;
    const runner = testRunner({
      join: (_ctx, input) => Object.values(input as Record<string, number>).reduce((a, b) => a + b),
    }, { fallback: (ctx) => ctx.node === "root" ? 0 : 1 });
    const record = await executeRun(dag(spec), { runner, tmpDir: "/tmp" });
    assert.equal(record.status, "succeeded");
    assert.equal(record.result, n);
  });
  await t.step("skipping a chain", async () => {
    const spec: Record<string, string[]> = { r: [], ok: ["r"], n0: ["r"] };
    for (let i = 1; i < n; i++) spec[`n${i}`] = [`n${i - 1}`];
    const runner = testRunner({ r: (ctx) => (ctx.route("ok"), 0) });
    const record = await executeRun(dag(spec), { runner, tmpDir: "/tmp" });
    assert.equal(record.nodes[`n${n - 1}`]!.status, "skipped");
    assert.deepEqual(record.result, { ok: "ok" });
  });
});

Deno.test("`executeRun()` gets its tmpDir from runner.makeTmpDir when present and removes it", async () => {
  const made: string[] = [];
  const runner = {
    ...testRunner({ a: (ctx) => ctx.tmpDir }),
    makeTmpDir: async (runId: string) => {
      const dir = await Deno.makeTempDir({ prefix: `runner-${runId}-` });
      made.push(dir);
      return dir;
    },
  };
  const record = await executeRun(dag({ a: [] }), { runner, runId: "r9" });
  assert.equal(made.length, 1);
  assert.equal(record.result, made[0]);
  assert.match(made[0]!, /runner-r9-/);
  await assert.rejects(Deno.stat(made[0]!), Deno.errors.NotFound);
});
