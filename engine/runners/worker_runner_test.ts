import assert from "node:assert/strict";
import { NodeFailure } from "../errors.ts";
import { createWorkerRunner, type WorkerRunner } from "./worker_runner.ts";
import { FakeClock } from "../../testing/mod.ts";
import { callOf, moduleNode, sandboxDir, workflowOf } from "../testdata/sandbox/helpers.ts";
import { runnerCases } from "../testdata/sandbox/runner_cases.ts";
import { k8sRunnerCases } from "../testdata/sandbox/k8s_runner_cases.ts";

runnerCases("createWorkerRunner()", (options) => createWorkerRunner(options));
k8sRunnerCases("createWorkerRunner()", (options) => createWorkerRunner(options));

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

/** Runs `fn` with a fresh runner, a temp dir and a loopback server echoing each request. */
async function withSandbox(
  fn: (
    ctx: { runner: WorkerRunner; tmp: string; port: number; clock: FakeClock },
  ) => Promise<void>,
) {
  const clock = new FakeClock();
  const runner = createWorkerRunner({ clock, graceMs: 100 });
  const tmp = await Deno.makeTempDir({ prefix: "pipedreamer-sandbox-test-" });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) =>
      Response.json({
        method: req.method,
        url: req.url,
        authorization: req.headers.get("authorization"),
        apiKey: req.headers.get("x-api-key"),
        body: await req.text(),
      }),
  );
  try {
    await fn({ runner, tmp, port: server.addr.port, clock });
  } finally {
    await runner.close();
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("`createWorkerRunner()` lets a node reach a declared host with fetch and ctx.fetch", () =>
  withSandbox(async ({ runner, port }) => {
    const host = `127.0.0.1:${port}`;
    const workflow = workflowOf(
      [
        moduleNode("plain", "fetch_plain", { net: [host] }),
        moduleNode("svc", "fetch_service", { net: [host] }),
      ],
      { services: { local: `http://${host}/api/` } },
    );
    const plain = await runner.run(
      callOf(workflow, "plain", { input: { url: `http://${host}/ping` } }).call,
      never(),
    );
    assert.equal(JSON.parse(plain.output as string).url, `http://${host}/ping`);

    const t = callOf(workflow, "svc", {
      input: { service: "local", path: "v1/items?page=2", init: { method: "PUT", body: "hi" } },
      secrets: { local: { token: "t0ken", api_key: "k3y!" } },
    });
    const { output } = await runner.run(t.call, never());
    const { status, body } = output as { status: number; body: string };
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(body), {
      method: "PUT",
      url: `http://${host}/api/v1/items?page=2`,
      authorization: "Bearer t0ken",
      apiKey: "k3y!",
      body: "hi",
    });
  }));

Deno.test("`createWorkerRunner()` denies an undeclared host and names the capability to add", () =>
  withSandbox(async ({ runner, port }) => {
    const workflow = workflowOf([
      moduleNode("fetch-data", "fetch_plain"),
      moduleNode("wrapped", "rethrow"),
    ]);
    for (const id of ["fetch-data", "wrapped"]) {
      const failure = await failureOf(
        runner.run(
          callOf(workflow, id, { input: { url: `http://127.0.0.1:${port}/` } }).call,
          never(),
        ),
      );
      assert.equal(
        failure.message,
        `Cannot run node "${id}": it needs network access to "127.0.0.1:${port}"; add ` +
          `capabilities: { net: "127.0.0.1:${port}" } to the node in workflow.yaml`,
      );
      assert.equal(failure.kind, "capability");
      assert.equal(failure.nonRetryable, true);
      assert.equal(failure.capability, `net: "127.0.0.1:${port}"`);
    }
  }));

Deno.test("`createWorkerRunner()` grants the subdomains of a declared domain, and nothing else", () =>
  withSandbox(async ({ runner }) => {
    const workflow = workflowOf([moduleNode("q", "query_net", { net: ["github.com"] })]);
    const hosts = [
      "github.com",
      "api.github.com",
      "a.b.github.com",
      "gitlab.com",
      "evilgithub.com",
    ];
    const { output } = await runner.run(callOf(workflow, "q", { input: { hosts } }).call, never());
    const states = output as Record<string, string>;
    assert.deepEqual(hosts.map((h) => states[h] === "granted"), [true, true, true, false, false]);
  }));

Deno.test("`createWorkerRunner()` denies the environment, subprocesses and FFI-free npm use still works", () =>
  withSandbox(async ({ runner }) => {
    const workflow = workflowOf([
      moduleNode("env", "read_env"),
      moduleNode("spawn", "spawn"),
      moduleNode("npm", "npm_yaml"),
    ]);
    const env = await failureOf(runner.run(callOf(workflow, "env").call, never()));
    assert.equal(env.kind, "capability");
    assert.equal(
      env.message,
      'Cannot run node "env": it reads the environment variable "HOME", which nodes may not ' +
        "do; pass the value through config: or a secret instead",
    );
    const spawn = await failureOf(runner.run(callOf(workflow, "spawn").call, never()));
    assert.equal(spawn.kind, "capability");
    assert.match(
      spawn.message,
      /^Cannot run node "spawn": it starts the subprocess "sh", which a module node may not do; make it a command node/,
    );
    const npm = await runner.run(
      callOf(workflow, "npm", { input: { text: "a: [1, 2]" } }).call,
      never(),
    );
    assert.deepEqual(npm.output, { parsed: { a: [1, 2] }, envKeys: 0 });
  }));

Deno.test("`createWorkerRunner()` allows writes in the run's temp dir only", () =>
  withSandbox(async ({ runner, tmp }) => {
    const outside = await Deno.makeTempDir({ prefix: "pipedreamer-outside-" });
    try {
      const workflow = workflowOf([moduleNode("write", "write_file")]);
      const inside = await runner.run(
        callOf(workflow, "write", { tmpDir: tmp, input: { path: `${tmp}/out.txt`, text: "ok" } })
          .call,
        never(),
      );
      assert.equal(inside.output, "ok");
      const failure = await failureOf(runner.run(
        callOf(workflow, "write", { tmpDir: tmp, input: { path: `${outside}/x.txt`, text: "no" } })
          .call,
        never(),
      ));
      assert.equal(failure.kind, "capability");
      assert.equal(
        failure.message,
        `Cannot run node "write": it writes "${outside}/x.txt" outside its temp dir; write under ` +
          "ctx.tmpDir instead",
      );
      assert.equal(await Deno.stat(`${outside}/x.txt`).catch(() => null), null);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  }));

Deno.test("`createWorkerRunner()` allows reads in the workflow directory only", () =>
  withSandbox(async ({ runner }) => {
    const outside = await Deno.makeTempFile({ prefix: "pipedreamer-outside-" });
    try {
      const workflow = workflowOf([moduleNode("read", "read_file")]);
      const inside = await runner.run(
        callOf(workflow, "read", { input: { path: "../data.txt" } }).call,
        never(),
      );
      assert.equal(inside.output, "inside the workflow directory\n");
      const failure = await failureOf(
        runner.run(
          callOf(workflow, "read", { input: { path: `file://${outside}` } }).call,
          never(),
        ),
      );
      assert.equal(failure.kind, "capability");
      assert.equal(
        failure.message,
        `Cannot run node "read": it reads "${outside}" outside the workflow directory ` +
          `"${sandboxDir}"; nodes may read only files in the workflow directory and ctx.tmpDir`,
      );
    } finally {
      await Deno.remove(outside);
    }
  }));

Deno.test("`createWorkerRunner()` shares one warm worker between nodes with the same capabilities", () =>
  withSandbox(async ({ runner }) => {
    const workflow = workflowOf([
      moduleNode("a", "counter"),
      moduleNode("b", "counter"),
      moduleNode("other", "counter", { net: ["example.com"] }),
    ]);
    const counts: unknown[] = [];
    for (
      const [id, runId] of [["a", "r1"], ["b", "r1"], ["a", "r2"], ["other", "r2"], ["b", "r3"]]
    ) {
      counts.push((await runner.run(callOf(workflow, id!, { runId }).call, never())).output);
    }
    // a, b and a again share a module instance; "other" has its own worker.
    assert.deepEqual(counts, [1, 2, 3, 1, 4]);
  }));

Deno.test("`createWorkerRunner()` reuses workers across runs with temp dirs from makeTmpDir()", () =>
  withSandbox(async ({ runner }) => {
    const workflow = workflowOf([
      moduleNode("count", "counter"),
      moduleNode("write", "write_file"),
    ]);
    const counts: unknown[] = [];
    for (const runId of ["run/1", "run/2"]) {
      const tmpDir = await runner.makeTmpDir(runId);
      assert.equal((await Deno.stat(tmpDir)).isDirectory, true);
      counts.push(
        (await runner.run(callOf(workflow, "count", { runId, tmpDir }).call, never())).output,
      );
      const written = await runner.run(
        callOf(workflow, "write", {
          runId,
          tmpDir,
          input: { path: `${tmpDir}/f.txt`, text: runId },
        })
          .call,
        never(),
      );
      assert.equal(written.output, runId);
    }
    assert.deepEqual(counts, [1, 2]);
  }));

Deno.test("`createWorkerRunner()` re-imports a node file whose code hash changed", () =>
  withSandbox(async ({ runner, tmp }) => {
    const path = `${tmp}/version.ts`;
    const run = async (codeHash: string) => {
      const workflow = workflowOf([moduleNode("v", "version", { path, codeHash })], { dir: tmp });
      return (await runner.run(callOf(workflow, "v", { tmpDir: tmp }).call, never())).output;
    };
    await Deno.writeTextFile(path, 'export default () => "v1";\n');
    assert.equal(await run("hash-1"), "v1");
    await Deno.writeTextFile(path, 'export default () => "v2";\n');
    assert.equal(await run("hash-1"), "v1", "same hash: the cached module");
    assert.equal(await run("hash-2"), "v2", "new hash: imported afresh");
  }));

Deno.test("`createWorkerRunner()` stops a worker stuck in a CPU loop and replaces it", () =>
  withSandbox(async ({ runner, clock }) => {
    const workflow = workflowOf([moduleNode("loop", "cpu_loop"), moduleNode("count", "counter")]);
    assert.equal((await runner.run(callOf(workflow, "count").call, never())).output, 1);
    const t = callOf(workflow, "loop");
    const controller = new AbortController();
    const pending = runner.run(t.call, controller.signal);
    await t.logged("looping");
    controller.abort(new DOMException("Signal timed out.", "TimeoutError"));
    await clock.waitForSleepers();
    clock.tick(100);
    const failure = await failureOf(pending);
    assert.equal(failure.kind, "timeout");
    assert.match(failure.message, /ignored ctx\.signal for 100ms, so its worker was stopped/);
    assert.equal(
      (await runner.run(callOf(workflow, "count").call, never())).output,
      1,
      "a fresh worker",
    );
  }));

Deno.test("`createWorkerRunner()` lets the other calls on a stuck node's worker meet their own fate", () =>
  withSandbox(async ({ runner, clock }) => {
    const workflow = workflowOf([
      moduleNode("hang", "hang"),
      moduleNode("wait", "wait_abort"),
      moduleNode("count", "counter"),
    ]);
    assert.equal((await runner.run(callOf(workflow, "count").call, never())).output, 1);
    const waiting = callOf(workflow, "wait");
    const waitController = new AbortController();
    const waitPending = runner.run(waiting.call, waitController.signal);
    await waiting.logged("waiting");
    const hanging = callOf(workflow, "hang");
    const hangController = new AbortController();
    const hangPending = runner.run(hanging.call, hangController.signal);
    await hanging.logged("hanging");
    hangController.abort(new DOMException("Signal timed out.", "TimeoutError"));
    await clock.waitForSleepers();
    clock.tick(100);
    assert.match((await failureOf(hangPending)).message, /its worker was stopped/);
    // New calls go to a fresh worker while "wait" still runs on the retired one.
    assert.equal((await runner.run(callOf(workflow, "count").call, never())).output, 1);
    waitController.abort(new DOMException("The run was cancelled", "AbortError"));
    const failure = await failureOf(waitPending);
    assert.equal(failure.message, 'Cannot run node "wait": attempt 1 was cancelled');
    assert.equal((await waiting.logged("aborted")).fields?.name, "AbortError");
  }));

Deno.test("`createWorkerRunner()` fails the calls of a crashed worker and starts a new one", () =>
  withSandbox(async ({ runner }) => {
    const workflow = workflowOf([moduleNode("crash", "crash"), moduleNode("count", "counter")]);
    assert.equal((await runner.run(callOf(workflow, "count").call, never())).output, 1);
    const failure = await failureOf(runner.run(callOf(workflow, "crash").call, never()));
    assert.equal(
      failure.message,
      'Cannot run node "crash": its sandbox worker crashed: uncaught boom',
    );
    assert.equal(failure.kind, "error");
    assert.equal(failure.nonRetryable, false);
    assert.equal((await runner.run(callOf(workflow, "count").call, never())).output, 1);
  }));

Deno.test("`createWorkerRunner()` refuses Deno.exit() and close() in a node", () =>
  withSandbox(async ({ runner }) => {
    const workflow = workflowOf([moduleNode("exit", "exit"), moduleNode("count", "counter")]);
    assert.equal((await runner.run(callOf(workflow, "count").call, never())).output, 1);
    for (const [how, what] of [["exit", "call Deno.exit()"], ["close", "close the worker"]]) {
      const failure = await failureOf(
        runner.run(callOf(workflow, "exit", { input: { how } }).call, never()),
      );
      assert.equal(
        failure.message,
        `Cannot ${what} from a node: return a value or throw an error instead`,
      );
    }
    assert.equal(
      (await runner.run(callOf(workflow, "count").call, never())).output,
      2,
      "same worker",
    );
  }));

Deno.test("`createWorkerRunner()` turns console output into log lines of the call", () =>
  withSandbox(async ({ runner }) => {
    const t = callOf(workflowOf([moduleNode("console", "console")]), "console");
    assert.equal((await runner.run(t.call, never())).output, "done");
    assert.deepEqual(t.logs.map((l) => [l.level, l.msg, l.node]), [
      ["info", "hello { a: 1 }", "console"],
      ["error", "oops", "console"],
    ]);
  }));

Deno.test("`createWorkerRunner()` fails an output that cannot leave the sandbox", () =>
  withSandbox(async ({ runner }) => {
    const failure = await failureOf(
      runner.run(callOf(workflowOf([moduleNode("bad", "bad_output")]), "bad").call, never()),
    );
    assert.match(
      failure.message,
      /^Cannot return the output of node "bad": it cannot be copied out of the sandbox/,
    );
    assert.equal(failure.nonRetryable, true);
  }));

Deno.test("`createWorkerRunner()` runs calls concurrently on one worker", () =>
  withSandbox(async ({ runner }) => {
    const workflow = workflowOf([moduleNode("echo", "echo")]);
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => runner.run(callOf(workflow, "echo", { input: { i } }).call, never()),
      ),
    );
    assert.deepEqual(
      results.map((r) => (r.output as { input: unknown }).input),
      Array.from({ length: 20 }, (_, i) => ({ i })),
    );
  }));

Deno.test("`createWorkerRunner()` close() fails the calls in flight as cancelled", async () => {
  const runner = createWorkerRunner();
  const t = callOf(workflowOf([moduleNode("hang", "hang")]), "hang");
  const pending = runner.run(t.call, never());
  await t.logged("hanging");
  await runner.close();
  const failure = await failureOf(pending);
  assert.equal(failure.kind, "cancelled");
  assert.equal(failure.message, 'Cannot run node "hang": the node runner was closed');
  const after = await failureOf(runner.run(t.call, never()));
  assert.equal(after.message, 'Cannot run node "hang": the node runner is closed');
});

Deno.test("`createWorkerRunner()` fails a node whose capabilities Deno rejects", async () => {
  const runner = createWorkerRunner();
  try {
    const workflow = workflowOf([moduleNode("bad", "counter", { net: ["http://github.com"] })]);
    const failure = await failureOf(runner.run(callOf(workflow, "bad").call, never()));
    assert.match(
      failure.message,
      /^Cannot start the sandbox of node "bad": .*URLs are not supported/,
    );
    assert.match(failure.message, /; fix its capabilities in workflow\.yaml$/);
    assert.equal(failure.nonRetryable, true);
  } finally {
    await runner.close();
  }
});

Deno.test("`createWorkerRunner()` stops the least recently used idle worker beyond maxWorkers", async () => {
  const runner = createWorkerRunner({ maxWorkers: 1 });
  try {
    const workflow = workflowOf([
      moduleNode("a", "counter"),
      moduleNode("b", "counter", { net: ["example.com"] }),
    ]);
    const counts: unknown[] = [];
    for (const id of ["a", "a", "b", "a"]) {
      counts.push((await runner.run(callOf(workflow, id).call, never())).output);
    }
    assert.deepEqual(counts, [1, 2, 1, 1]);
  } finally {
    await runner.close();
  }
});

Deno.test("`createWorkerRunner()` replaces a worker after maxModuleVersions re-imports", () =>
  withSandbox(async ({ tmp }) => {
    const runner = createWorkerRunner({ maxModuleVersions: 2 });
    try {
      const path = `${tmp}/count.ts`;
      await Deno.writeTextFile(path, "let n = 0;\nexport default () => ++n;\n");
      const workflow = (codeHash: string) =>
        workflowOf([moduleNode("c", "count", { path, codeHash })], { dir: tmp });
      const counts: unknown[] = [];
      for (const hash of ["h1", "h1", "h2", "h3", "h3"]) {
        counts.push((await runner.run(callOf(workflow(hash), "c").call, never())).output);
      }
      // Each version is a new module instance. After two re-imports (h2, h3) the worker is
      // replaced, so the second h3 call starts from a fresh module instead of counting 2.
      assert.deepEqual(counts, [1, 2, 1, 1, 1]);
    } finally {
      await runner.close();
    }
  }));
