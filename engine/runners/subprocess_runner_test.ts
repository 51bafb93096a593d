import assert from "node:assert/strict";
import { NodeFailure } from "../errors.ts";
import { createSubprocessRunner } from "./subprocess_runner.ts";
import type { NodeRunner } from "../runner_protocol.ts";
import { FakeClock } from "../../testing/mod.ts";
import { callOf, commandNode, workflowOf } from "../testdata/sandbox/helpers.ts";

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

async function withRunner(fn: (runner: NodeRunner, clock: FakeClock) => Promise<void>) {
  const clock = new FakeClock();
  const runner = createSubprocessRunner({ clock, killGraceMs: 1000 });
  try {
    await fn(runner, clock);
  } finally {
    await runner.close();
  }
}

const python = commandNode("double", ["python3", "./nodes/double.py"], { run: ["python3"] });

Deno.test("`createSubprocessRunner()` passes input on stdin and parses stdout, in the workflow dir", () =>
  withRunner(async (runner) => {
    const result = await runner.run(
      callOf(workflowOf([python]), "double", { input: { n: 21 } }).call,
      never(),
    );
    assert.deepEqual(result, { output: { doubled: 42, note: "inside the workflow directory" } });
  }));

Deno.test("`createSubprocessRunner()` round-trips JSON through cat; empty stdout is null", () =>
  withRunner(async (runner) => {
    const workflow = workflowOf([
      commandNode("cat", ["cat"], { run: ["cat"] }),
      commandNode("quiet", ["sh", "-c", "cat > /dev/null"], { run: ["sh"] }),
    ]);
    const input = { text: "é ✓", list: [1, null, true] };
    assert.deepEqual(
      (await runner.run(callOf(workflow, "cat", { input }).call, never())).output,
      input,
    );
    assert.equal(
      (await runner.run(callOf(workflow, "quiet", { input }).call, never())).output,
      null,
    );
  }));

Deno.test("`createSubprocessRunner()` fails on output that is not JSON and quotes its start", () =>
  withRunner(async (runner) => {
    const node = commandNode("talk", ["sh", "-c", "echo 'hello, not json'"], { run: ["sh"] });
    const failure = await failureOf(runner.run(callOf(workflowOf([node]), "talk").call, never()));
    assert.equal(
      failure.message,
      'Cannot run node "talk": "sh" wrote output that is not JSON: "hello, not json\\n"; print ' +
        "one JSON value on stdout and logs on stderr",
    );
    assert.equal(failure.nonRetryable, true);
  }));

Deno.test("`createSubprocessRunner()` fails on a non-zero exit with the code and last stderr lines", () =>
  withRunner(async (runner) => {
    const script = "for i in 1 2 3 4 5 6 7; do echo line $i >&2; done; exit 3";
    const node = commandNode("bad", ["sh", "-c", script], { run: ["sh"] });
    const failure = await failureOf(runner.run(callOf(workflowOf([node]), "bad").call, never()));
    assert.equal(
      failure.message,
      'Cannot run node "bad": "sh" exited with code 3; stderr: line 3 | line 4 | line 5 | line 6 | line 7',
    );
    assert.equal(failure.kind, "error");
    assert.equal(failure.nonRetryable, false);
  }));

Deno.test("`createSubprocessRunner()` turns stderr lines into tagged log lines", () =>
  withRunner(async (runner) => {
    const script = `echo plain words >&2; echo '{"level":"warn","msg":"careful","n":1}' >&2; ` +
      `echo '{"level":"loud","msg":"odd level"}' >&2; echo '{"not":"a log"}' >&2; echo 7`;
    const node = commandNode("logs", ["sh", "-c", script], { run: ["sh"] });
    const t = callOf(workflowOf([node]), "logs", { runId: "run-9", attempt: 2 });
    assert.equal((await runner.run(t.call, never())).output, 7);
    assert.deepEqual(t.logs.map(({ ts: _ts, ...line }) => line), [
      { runId: "run-9", node: "logs", attempt: 2, level: "info", msg: "plain words" },
      { runId: "run-9", node: "logs", attempt: 2, level: "warn", msg: "careful", fields: { n: 1 } },
      { runId: "run-9", node: "logs", attempt: 2, level: "info", msg: "odd level" },
      { runId: "run-9", node: "logs", attempt: 2, level: "info", msg: '{"not":"a log"}' },
    ]);
  }));

Deno.test("`createSubprocessRunner()` refuses a program missing from capabilities.run", () =>
  withRunner(async (runner) => {
    const node = commandNode("convert", ["python3", "./nodes/double.py"], { run: ["sh"] });
    const failure = await failureOf(
      runner.run(callOf(workflowOf([node]), "convert").call, never()),
    );
    assert.equal(
      failure.message,
      'Cannot run node "convert": it runs "python3"; add capabilities: { run: ["python3"] } to ' +
        "the node in workflow.yaml",
    );
    assert.equal(failure.kind, "capability");
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.capability, 'run: "python3"');
  }));

Deno.test("`createSubprocessRunner()` fails clearly when the program does not exist", () =>
  withRunner(async (runner) => {
    const node = commandNode("ghost", ["./nodes/ghost.sh"], { run: ["./nodes/ghost.sh"] });
    const failure = await failureOf(runner.run(callOf(workflowOf([node]), "ghost").call, never()));
    assert.equal(
      failure.message,
      'Cannot run node "ghost": program "./nodes/ghost.sh" was not found (PATH or the workflow directory)',
    );
    assert.equal(failure.nonRetryable, true);
  }));

Deno.test("`createSubprocessRunner()` clears the environment but PATH, with HOME in the temp dir", () =>
  withRunner(async (runner) => {
    Deno.env.set("PIPEDREAMER_TEST_SECRET", "s3cret");
    const tmpDir = await Deno.makeTempDir();
    try {
      // A relative program resolves from the workflow directory.
      const node = commandNode("env", ["./nodes/environ.sh"], { run: ["./nodes/environ.sh"] });
      const { output } = await runner.run(
        callOf(workflowOf([node]), "env", { tmpDir }).call,
        never(),
      );
      const env = output as { names: string[]; home: string; tmpdir: string; path: string };
      // sh adds PWD itself; nothing of the engine's environment leaks.
      assert.deepEqual(env.names.sort(), ["HOME", "PATH", "PWD", "TMPDIR"]);
      assert.equal(env.home, tmpDir);
      assert.equal(env.tmpdir, tmpDir);
      assert.equal(env.path, Deno.env.get("PATH"));
    } finally {
      Deno.env.delete("PIPEDREAMER_TEST_SECRET");
      await Deno.remove(tmpDir);
    }
  }));

Deno.test("`createSubprocessRunner()` stops a process with SIGTERM on timeout", () =>
  withRunner(async (runner, clock) => {
    const node = commandNode("sleepy", ["sh", "-c", "echo ready >&2; exec sleep 60"], {
      run: ["sh"],
      timeoutMs: 5000,
    });
    const t = callOf(workflowOf([node]), "sleepy");
    const controller = new AbortController();
    const pending = runner.run(t.call, controller.signal);
    await t.logged("ready");
    controller.abort(new DOMException("Signal timed out.", "TimeoutError"));
    const failure = await failureOf(pending);
    assert.equal(failure.kind, "timeout");
    assert.match(failure.message, /^Cannot run node "sleepy": attempt 1 timed out after 5s; raise/);
    assert.equal(clock.pending, 0, "the SIGKILL timer is cancelled");
  }));

Deno.test("`createSubprocessRunner()` kills a process that ignores SIGTERM after the grace period", () =>
  withRunner(async (runner, clock) => {
    const node = commandNode("stubborn", ["python3", "./nodes/ignore_term.py"], {
      run: ["python3"],
    });
    const t = callOf(workflowOf([node]), "stubborn");
    const controller = new AbortController();
    const pending = runner.run(t.call, controller.signal);
    await t.logged("ready");
    controller.abort(new DOMException("Cancelled", "AbortError"));
    await clock.waitForSleepers();
    clock.tick(1000);
    const failure = await failureOf(pending);
    assert.equal(failure.kind, "cancelled");
    assert.equal(
      failure.message,
      'Cannot run node "stubborn": attempt 1 was cancelled; it ignored ctx.signal for 1s, so its ' +
        "process was killed (pass ctx.signal to fetch and check it in long loops)",
    );
  }));
