/**
 * The test suite every runner of module nodes passes (worker and in-process): same contract,
 * same behaviour. Registered by each runner's own test file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { NodeFailure } from "../../errors.ts";
import type { Clock, FetchRequestInfo, NodeRunner } from "../../runner_protocol.ts";
import { FakeClock } from "../../../testing/mod.ts";
import { callOf, moduleNode, workflowOf } from "./helpers.ts";

/** Makes the runner under test. */
export type RunnerFactory = (options: { clock?: Clock; graceMs?: number }) => NodeRunner;

async function failureOf(promise: Promise<unknown>): Promise<NodeFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NodeFailure, `expected a NodeFailure, got ${error}`);
    return error;
  }
  assert.fail("expected the attempt to fail");
}

const timeoutReason = () => new DOMException("Signal timed out.", "TimeoutError");

/** Registers the shared runner tests under `name`, e.g. "createWorkerRunner()". */
export function runnerCases(name: string, create: RunnerFactory): void {
  const test = (title: string, fn: (runner: NodeRunner, clock: FakeClock) => Promise<void>) =>
    Deno.test(`\`${name}\` ${title}`, async () => {
      const clock = new FakeClock();
      const runner = create({ clock, graceMs: 100 });
      try {
        await fn(runner, clock);
      } finally {
        await runner.close();
      }
    });
  const never = () => new AbortController().signal;
  const workflow = workflowOf(
    [
      moduleNode("echo", "echo", { secrets: ["github"] }),
      moduleNode("b", "counter"),
      moduleNode("c", "counter"),
      moduleNode("fail", "fail"),
      moduleNode("not-function", "not_function"),
      moduleNode("fetch", "fetch_service", { secrets: ["github"] }),
      moduleNode("wait", "wait_abort"),
      moduleNode("hang", "hang"),
    ],
    { children: { echo: ["b", "c"] } },
  );

  test("returns the output and gives the node its context, logs and progress", async (runner) => {
    const t = callOf(workflow, "echo", {
      input: { n: 1 },
      runId: "run-7",
      attempt: 2,
      config: { limit: 5 },
      secrets: { github: { token: "t0ken" } },
      tmpDir: "/tmp/run-7",
    });
    const result = await runner.run(t.call, never());
    assert.deepEqual(result, {
      output: {
        input: { n: 1 },
        runId: "run-7",
        node: "echo",
        attempt: 2,
        config: { limit: 5 },
        secrets: { github: { token: "t0ken" } },
        tmpDir: "/tmp/run-7",
      },
      routes: undefined,
    });
    assert.equal(t.logs.length, 1);
    const { ts, ...line } = t.logs[0]!;
    assert.ok(!Number.isNaN(Date.parse(ts)));
    assert.deepEqual(line, {
      level: "info",
      msg: "echo",
      runId: "run-7",
      node: "echo",
      attempt: 2,
      fields: { input: { n: 1 } },
    });
    assert.deepEqual(t.progress, [{ value: 0.5, message: "half way" }]);
  });

  test("returns the children chosen with ctx.route()", async (runner) => {
    const routed = await runner.run(
      callOf(workflow, "echo", { input: { routes: ["c"] } }).call,
      never(),
    );
    assert.deepEqual(routed.routes, ["c"]);
    const none = await runner.run(
      callOf(workflow, "echo", { input: { routes: [] } }).call,
      never(),
    );
    assert.deepEqual(none.routes, []);
  });

  test("fails a route to a node that is not a child and names the children", async (runner) => {
    const failure = await failureOf(
      runner.run(callOf(workflow, "echo", { input: { routes: ["fail"] } }).call, never()),
    );
    assert.equal(
      failure.message,
      'Cannot route from node "echo" to "fail": its children are "b", "c"; add an edge ' +
        "{ from: echo, to: fail } to workflow.yaml",
    );
    assert.equal(failure.kind, "error");
  });

  test("fails with the node's own error, retryable", async (runner) => {
    const failure = await failureOf(
      runner.run(callOf(workflow, "fail", { input: { message: "no luck" } }).call, never()),
    );
    assert.equal(failure.message, "no luck");
    assert.equal(failure.kind, "error");
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.remoteName, "RangeError");
    assert.match(failure.remoteStack ?? "", /fail\.ts/);
  });

  test("rejects a module whose default export is not a function", async (runner) => {
    const failure = await failureOf(runner.run(callOf(workflow, "not-function").call, never()));
    assert.match(
      failure.message,
      /^Cannot run node "not-function": ".*\/nodes\/not_function\.ts" has no default export function/,
    );
    assert.equal(failure.nonRetryable, true);
  });

  test("answers ctx.fetch from the fetch mock, with auth from secrets", async (runner) => {
    const requests: FetchRequestInfo[] = [];
    const t = callOf(workflow, "fetch", {
      input: {
        service: "github",
        path: "/user/repos?per_page=5",
        init: { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } },
      },
      secrets: { github: { token: "t0ken", api_key: "k3y!" } },
      fetchMock: (request) => {
        requests.push(request);
        return Promise.resolve({ status: 201, body: { ok: true } });
      },
    });
    const { output } = await runner.run(t.call, never());
    assert.deepEqual(output, { status: 201, contentType: "application/json", body: '{"ok":true}' });
    assert.deepEqual(requests, [{
      service: "github",
      method: "POST",
      path: "/user/repos?per_page=5",
      url: "https://api.github.com/user/repos?per_page=5",
      headers: {
        authorization: "Bearer t0ken",
        "content-type": "application/json",
        "x-api-key": "k3y!",
      },
      body: '{"a":1}',
    }]);
  });

  test("fails ctx.fetch with the fetch mock's error", async (runner) => {
    const t = callOf(workflow, "fetch", {
      input: { service: "slack", path: "/api/chat.postMessage" },
      fetchMock: () => Promise.reject(new Error("No fetch fixture matches GET /api/x")),
    });
    const failure = await failureOf(runner.run(t.call, never()));
    assert.equal(failure.message, "No fetch fixture matches GET /api/x");
  });

  test("aborts ctx.signal with a TimeoutError and fails as a timeout", async (runner) => {
    const t = callOf(workflow, "wait");
    const controller = new AbortController();
    const pending = runner.run(t.call, controller.signal);
    await t.logged("waiting");
    controller.abort(timeoutReason());
    const failure = await failureOf(pending);
    assert.equal(failure.kind, "timeout");
    assert.equal(failure.nonRetryable, false);
    assert.match(failure.message, /^Cannot run node "wait": attempt 1 timed out after 30s; raise/);
    const aborted = await t.logged("aborted");
    assert.deepEqual(aborted.fields, { name: "TimeoutError", isDomException: true });
  });

  test("fails as cancelled, not retryable, when the run is cancelled", async (runner) => {
    const t = callOf(workflow, "wait");
    const controller = new AbortController();
    const pending = runner.run(t.call, controller.signal);
    await t.logged("waiting");
    controller.abort(new DOMException("The run was cancelled", "AbortError"));
    const failure = await failureOf(pending);
    assert.equal(failure.kind, "cancelled");
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.message, 'Cannot run node "wait": attempt 1 was cancelled');
  });

  test("fails at once when the signal is already aborted", async (runner) => {
    const t = callOf(workflow, "echo");
    const failure = await failureOf(runner.run(t.call, AbortSignal.abort()));
    assert.equal(failure.kind, "cancelled");
    assert.equal(t.logs.length, 0);
  });

  test(
    "fails a node that ignores ctx.signal once the grace period is over",
    async (runner, clock) => {
      const t = callOf(workflow, "hang");
      const controller = new AbortController();
      let settled = false;
      const pending = runner.run(t.call, controller.signal).finally(() => settled = true);
      await t.logged("hanging");
      controller.abort(timeoutReason());
      await clock.waitForSleepers();
      clock.tick(99);
      // A round trip through the runner: the hanging attempt must still be pending.
      await runner.run(callOf(workflow, "echo").call, never());
      assert.equal(settled, false);
      clock.tick(1);
      const failure = await failureOf(pending);
      assert.equal(failure.kind, "timeout");
      assert.match(failure.message, /timed out after 30s; it ignored ctx\.signal for 100ms, so /);
    },
  );
}
