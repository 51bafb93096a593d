/**
 * Containment of the process runner (SPEC §4), in real sandbox processes: nothing a node does
 * stops the engine (this test process) or harms another node or run.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { NodeFailure } from "../errors.ts";
import { createProcessRunner, type ProcessRunner } from "./process_runner.ts";
import { callOf, moduleNode, sandboxDir, workflowOf } from "../testdata/sandbox/helpers.ts";
import type { CompiledWorkflow } from "../workflow_model.ts";

const never = () => new AbortController().signal;

async function failureOf(promise: Promise<unknown>): Promise<NodeFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NodeFailure, `expected a NodeFailure, got ${error}`);
    return error;
  }
  assert.fail("expected the attempt to fail");
}

async function withRunner(fn: (runner: ProcessRunner) => Promise<void>): Promise<void> {
  const runner = createProcessRunner({ graceMs: 100 });
  try {
    await fn(runner);
  } finally {
    await runner.close();
  }
}

const workflow: CompiledWorkflow = workflowOf([
  moduleNode("kill", "kill_engine"),
  moduleNode("bomb", "memory_bomb", { memoryMiB: 48 }),
  moduleNode("maybe-bomb", "maybe_bomb", { memoryMiB: 48 }),
  moduleNode("spin", "maybe_spin", { timeoutMs: 2_000 }),
  moduleNode("sibling", "sleep_then"),
  moduleNode("echo", "echo"),
  moduleNode("plant", "realm_plant", { secrets: ["github"] }),
  moduleNode("plant-again", "realm_plant", { secrets: ["github"] }),
  moduleNode("plant-isolated", "realm_plant", { secrets: ["github"], isolation: "run" }),
  moduleNode("probe", "realm_probe"),
  moduleNode("counter", "counter"),
  moduleNode("garbage", "stdout_garbage"),
]);

/** The echo node still answers: the engine and its runner are alive. */
async function assertServing(runner: ProcessRunner): Promise<void> {
  const { output } = await runner.run(
    callOf(workflow, "echo", { input: "still here" }).call,
    never(),
  );
  assert.equal((output as { input: unknown }).input, "still here");
}

const DENIED_KILLS = [
  "Deno.kill(ppid)",
  "process.kill(ppid)",
  "node:process kill(ppid, SIGTERM)",
  "process.kill(0)",
  "process.kill(-1)",
  "child_process",
];

/** The denial of every way to signal or spawn: the run capability, which module nodes lack. */
const KILL_DENIED = 'Cannot run node "kill": it starts the subprocess "<program>", which a ' +
  "module node may not do; make it a command node (command: [<program>, …]) with " +
  'capabilities: { run: ["<program>"] } in workflow.yaml';

Deno.test("a node cannot signal the engine: every kill API is denied and names the run capability", () =>
  withRunner(async (runner) => {
    for (const via of DENIED_KILLS) {
      const failure = await failureOf(
        runner.run(callOf(workflow, "kill", { input: { via } }).call, never()),
      );
      assert.equal(failure.kind, "capability", `${via}: ${failure.message}`);
      assert.equal(failure.message, KILL_DENIED, via);
      assert.equal(failure.capability, undefined, via);
      await assertServing(runner);
    }
  }));

Deno.test("a node that kills its own sandbox fails its attempt with the signal; the next call gets a new sandbox", () =>
  withRunner(async (runner) => {
    const killed = await failureOf(
      runner.run(callOf(workflow, "kill", { input: { via: "Deno.kill(self)" } }).call, never()),
    );
    assert.match(
      killed.message,
      /^Cannot run node "kill": its sandbox process was killed by signal SIGKILL/,
    );
    const termed = await failureOf(
      runner.run(
        callOf(workflow, "kill", { input: { via: "process.kill(self, SIGTERM)" } }).call,
        never(),
      ),
    );
    assert.match(termed.message, /killed by signal SIGTERM/);
    const exit = await failureOf(
      runner.run(callOf(workflow, "kill", { input: { via: "Deno.exit" } }).call, never()),
    );
    assert.match(exit.message, /Cannot call Deno\.exit\(\) from a node/);
    await assertServing(runner);
  }));

Deno.test("a memory bomb fails only its own attempt with its memory limit; siblings finish", () =>
  withRunner(async (runner) => {
    const sibling = runner.run(
      callOf(workflow, "sibling", { input: { ms: 50, value: "sibling done" } }).call,
      never(),
    );
    const failure = await failureOf(runner.run(callOf(workflow, "bomb").call, never()));
    assert.equal(
      failure.message,
      'Cannot run node "bomb": it exceeded its memory limit of 48 MiB; raise limits: ' +
        "{ memory: … } on the node in workflow.yaml if it needs more",
    );
    assert.equal(failure.kind, "error");
    assert.notEqual(failure.nonRetryable, true);
    assert.equal((await sibling).output, "sibling done");
    // Runs of the same node go on in a fresh sandbox.
    const again = await failureOf(runner.run(callOf(workflow, "bomb").call, never()));
    assert.match(again.message, /memory limit of 48 MiB/);
    await assertServing(runner);
  }));

Deno.test("calls sharing a sandbox with a memory bomb run again alone and succeed, uncharged", () =>
  withRunner(async (runner) => {
    const innocent = callOf(workflow, "maybe-bomb", { input: { ms: 3_000 }, runId: "innocent" });
    const innocentRun = runner.run(innocent.call, never());
    await innocent.logged("started");
    const bomb = callOf(workflow, "maybe-bomb", { input: { bomb: true }, runId: "bomb" });
    const failure = await failureOf(runner.run(bomb.call, never()));
    assert.match(failure.message, /^Cannot run node "maybe-bomb": it exceeded its memory limit/);
    assert.equal((await innocentRun).output, "ok");
    // Started twice (the first sandbox died under it), charged once: same attempt.
    assert.equal(innocent.logs.filter((l) => l.msg === "started").length, 2);
    assert.ok(innocent.logs.every((l) => l.attempt === 1));
  }));

Deno.test("a busy node does not delay a sibling with the same capabilities; it fails alone after its timeout", () =>
  withRunner(async (runner) => {
    const busy = callOf(workflow, "spin", { input: { spin: true }, runId: "busy" });
    const controller = new AbortController();
    const busyRun = runner.run(busy.call, controller.signal);
    await busy.logged("started");
    // Another node, same capabilities: its own sandbox, not blocked by the spinning one.
    const { output } = await runner.run(
      callOf(workflow, "sibling", { input: { ms: 10, value: "sibling done" } }).call,
      never(),
    );
    assert.equal(output, "sibling done");
    controller.abort(new DOMException("Signal timed out.", "TimeoutError"));
    const failure = await failureOf(busyRun);
    assert.equal(failure.kind, "timeout");
    assert.match(
      failure.message,
      /timed out after 2s; it ignored ctx\.signal for 100ms, so its sandbox process was stopped/,
    );
    await assertServing(runner);
  }));

Deno.test("calls of the same node stuck behind a busy one run again, uncharged, when its sandbox is stopped", () =>
  withRunner(async (runner) => {
    const innocent = callOf(workflow, "spin", { input: { ms: 200 }, runId: "innocent" });
    const innocentRun = runner.run(innocent.call, never());
    await innocent.logged("started");
    const busy = callOf(workflow, "spin", { input: { spin: true }, runId: "busy" });
    const controller = new AbortController();
    const busyRun = runner.run(busy.call, controller.signal);
    await busy.logged("started");
    controller.abort(new DOMException("Signal timed out.", "TimeoutError"));
    assert.equal((await failureOf(busyRun)).kind, "timeout");
    assert.equal((await innocentRun).output, "done on attempt 1");
  }));

Deno.test("nodes running different code never share a realm; runs of one node share it unless isolation: run", () =>
  withRunner(async (runner) => {
    const secrets = { github: { token: "s3cret-token" } };
    const plant = await runner.run(
      callOf(workflow, "plant", { input: { ssn: "078-05-1120" }, secrets, runId: "r1" }).call,
      never(),
    );
    assert.deepEqual(plant.output, { pwned: null, fetchReplaced: false, stash: null });
    // Another node with the same capabilities: nothing of the planted globals.
    const probe = await runner.run(callOf(workflow, "probe", { runId: "r1" }).call, never());
    assert.deepEqual(probe.output, { pwned: null, fetchReplaced: false, stash: null });
    // isolation: run: a fresh realm for every run.
    for (const runId of ["r2", "r3"]) {
      const isolated = await runner.run(
        callOf(workflow, "plant-isolated", { input: { ssn: runId }, secrets, runId }).call,
        never(),
      );
      assert.deepEqual(isolated.output, { pwned: null, fetchReplaced: false, stash: null });
    }
    // The default: the node's warm module instance, shared with the nodes that run the same
    // file with the same grants. What its own code kept is there; the engine keeps nothing.
    const again = await runner.run(
      callOf(workflow, "plant-again", { input: { ssn: "n" }, secrets, runId: "r4" }).call,
      never(),
    );
    assert.deepEqual(again.output, {
      pwned: "yes",
      fetchReplaced: true,
      stash: { input: { ssn: "078-05-1120" }, secrets },
    });
  }));

Deno.test("a node's writes to stdout become log lines and stdin is out of its reach", () =>
  withRunner(async (runner) => {
    const t = callOf(workflow, "garbage");
    const { output } = await runner.run(t.call, never());
    assert.deepEqual(output, {
      stdin: "Cannot read stdin from a node: nodes get their data as input",
    });
    assert.deepEqual(
      t.logs.map((l) => l.msg),
      ["console.log line", "Deno.stdout line", "process.stdout line"],
    );
    await assertServing(runner);
  }));

Deno.test("an output that cannot be sent as JSON fails the attempt, not retryable", () =>
  withRunner(async (runner) => {
    const dir = await Deno.makeTempDir({ prefix: "pipedreamer-unstorable-" });
    try {
      await Deno.writeTextFile(
        join(dir, "bigint.ts"),
        "export default (_c: unknown, input: { cyclic?: boolean }) => {\n" +
          "  if (!input.cyclic) return { n: 10n };\n" +
          "  const o: Record<string, unknown> = {}; o.self = o; return o;\n}\n",
      );
      const node = moduleNode("out", "bigint", { path: join(dir, "bigint.ts") });
      const wf = workflowOf([node], { dir });
      for (const cyclic of [false, true]) {
        const failure = await failureOf(
          runner.run(callOf(wf, "out", { input: { cyclic } }).call, never()),
        );
        assert.match(
          failure.message,
          /^Cannot return the output of node "out": it cannot be copied out of the sandbox \(.+\); return plain JSON data$/,
        );
        assert.equal(failure.nonRetryable, true);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("the workflow's .secrets.yaml and .secrets/ are never readable by a node", () =>
  withRunner(async (runner) => {
    const dir = await Deno.makeTempDir({ prefix: "pipedreamer-secrets-" });
    try {
      await Deno.mkdir(join(dir, "nodes"));
      await Deno.mkdir(join(dir, ".secrets"));
      await Deno.copyFile(join(sandboxDir, "nodes", "read_file.ts"), join(dir, "nodes", "read.ts"));
      await Deno.writeTextFile(join(dir, ".secrets.yaml"), "github: { token: s3cret }\n");
      await Deno.writeTextFile(join(dir, ".secrets", "stripe"), "sk_live_s3cret\n");
      await Deno.writeTextFile(join(dir, "data.txt"), "public\n");
      const node = moduleNode("read", "read", { path: join(dir, "nodes", "read.ts") });
      const wf = workflowOf([node], { dir });
      const read = (path: string) =>
        runner.run(callOf(wf, "read", { input: { path } }).call, never());
      assert.equal((await read("../data.txt")).output, "public\n");
      for (
        const path of ["../.secrets.yaml", "../.secrets/stripe", "../.secrets/../.secrets.yaml"]
      ) {
        const failure = await failureOf(read(path));
        assert.equal(failure.kind, "capability", path);
        assert.match(
          failure.message,
          /reads the project's secrets file ".+", which no node may read; use ctx\.secrets/,
        );
        assert.doesNotMatch(failure.message, /s3cret/);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));
