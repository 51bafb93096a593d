/**
 * Sub-workflows (SPEC §9) against a real `pipedreamer serve`, on SQLite and on PostgreSQL:
 * linked child runs, failure and cancellation propagation, map + workflow, a kill -9 in the
 * middle of a child run; and each child's own secrets in `serve` and `exec`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, cli, stdoutJson } from "./_cli.ts";
import { CallbackServer, freePort, startServe } from "./_serve.ts";
import { api, bothStores, type Json, project, until } from "./_durable_serve.ts";
import { assertNoSecret, CHILD_SECRET, expectedResult, subWorkflowTree } from "./_sub_workflows.ts";

bothStores(
  "`pipedreamer serve` runs a mapped sub-workflow as linked child runs; a child's failure fails the node",
  async (store) => {
    await using p = await project("durable-parent", undefined, ["durable-child"]);
    await using server = await startServe(p.args({ store }));
    const call = api(server, p.token);
    const ok = await call("/run", { json: { users: ["ada", "grace"] } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.result, {
      count: 2,
      users: [{ user: "ada", length: 3 }, { user: "grace", length: 5 }],
    });
    const items = await call(`/runs/${ok.body.runId}/nodes/enrich/items`);
    const childIds = items.body.items.map((i: Json) => i.childRunId);
    assert.deepEqual(childIds, [`${ok.body.runId}~enrich~0`, `${ok.body.runId}~enrich~1`]);
    const child = await call(`/runs/${childIds[1]}`);
    assert.equal(child.body.workflow, "durable-child");
    assert.equal(child.body.parentRunId, ok.body.runId);
    assert.equal(child.body.parentNode, "enrich");
    assert.equal(child.body.trigger, "workflow");
    assert.deepEqual(child.body.result, { user: "grace", length: 5 });

    const bad = await call("/run", { json: { users: ["ada", "boom"] } });
    assert.equal(bad.status, 422);
    assert.match(
      bad.body.nodes.enrich.error.message,
      /Element 1 of map node "enrich" failed: Child run ".*~enrich~1" of workflow "durable-child" failed at node "enrich": cannot enrich "boom"/,
    );
    const failed = await call(`/runs/${bad.body.runId}~enrich~1`);
    assert.equal(failed.body.status, "failed");
    assert.equal(failed.body.parentRunId, bad.body.runId);
  },
);

bothStores(
  "`pipedreamer serve`: cancelling the parent cancels its running child run",
  async (store) => {
    await using callback = new CallbackServer();
    await using p = await project("sub-gated", callback, ["gated"]);
    await using server = await startServe(p.args({ store }));
    const call = api(server, p.token);
    callback.hold("middle");
    const started = await call("/runs", { json: { tag: "cancel" } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;
    const childId = `${runId}~work`;
    await callback.waitForCall("middle", 1, childId);
    const parent = await call(`/runs/${runId}`);
    assert.equal(parent.body.nodes.work.childRunId, childId);

    const cancelled = await call(`/runs/${runId}/cancel`, { method: "POST" });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    await until(call, runId, (r) => r.status === "cancelled", "the parent cancelled");
    const child = await until(
      call,
      childId,
      (r) => r.status === "cancelled",
      "the child cancelled",
    );
    assert.equal(child.nodes.middle.status, "cancelled");
    assert.equal(child.nodes.last?.status, "skipped");
    callback.release("middle");
    assert.equal(callback.count("last", childId), 0, "the child went on after the cancel");
  },
);

bothStores(
  "`pipedreamer serve` killed -9 in the middle of a child run: the restarted server resumes the child, finished nodes do not run again",
  async (store) => {
    await using callback = new CallbackServer();
    await using p = await project("sub-gated", callback, ["gated"]);
    const port = freePort();
    let runId: string;
    {
      await using first = await startServe(p.args({ port, store }));
      callback.hold("middle");
      runId = (await api(first, p.token)("/runs", { json: { tag: "kill" } })).body.runId;
      await callback.waitForCall("middle", 1, `${runId}~work`);
      // `first` finished before `middle` started: its success is stored already (SQLite commits
      // it before its children start, PostgreSQL awaits it), so kill at once.
      assert.equal((await first.stop("SIGKILL")).signal, "SIGKILL");
    }
    callback.release("middle");
    const childId = `${runId}~work`;
    await using second = await startServe(p.args({ port, store }));
    const call = api(second, p.token);
    const done = await until(call, runId, (r) => r.status === "succeeded", "the parent resumed");
    assert.deepEqual(Object.keys(done.result).sort(), ["first", "last", "middle", "tag"]);
    const child = await call(`/runs/${childId}`);
    assert.equal(child.body.status, "succeeded");
    assert.equal(child.body.parentRunId, runId);
    assert.equal(child.body.parentNode, "work");
    assert.equal(done.nodes.work.childRunId, childId);
    // The same child run, resumed (its id is derived from the parent's): its finished node and
    // the parent's ran once, the interrupted node again.
    assert.equal(callback.count("stamp", runId), 1, "the parent's finished node ran again");
    assert.equal(callback.count("first", childId), 1, "the child's finished node ran again");
    assert.equal(callback.count("middle", childId), 2);
    assert.equal(callback.count("last", childId), 1);
  },
);

Deno.test("`pipedreamer serve`: a child run gets its own project's secrets, never its parent's, and they never show", async () => {
  await using tree = await subWorkflowTree();
  const token = `tok-${crypto.randomUUID()}`;
  await Deno.writeTextFile(join(tree.root, "token"), token);
  await using server = await startServe([
    "serve",
    tree.parent,
    ...["--port", "0", "--host", "127.0.0.1", "--data", join(tree.root, "data")],
    ...["--token-file", join(tree.root, "token"), "--config-dir", join(tree.root, "none")],
  ]);
  const call = api(server, token);
  const ok = await call("/run", { json: { users: ["ada"] } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.result, expectedResult(["ada"]));
  const childId = `${ok.body.runId}~enrich~0`;
  const logs = await (await fetch(`${server.url}/runs/${childId}/logs`, {
    headers: { authorization: `Bearer ${token}` },
  })).text();
  assert.match(logs, /child token: \[REDACTED\]/);
  const child = await call(`/runs/${childId}`);
  assert.equal(child.body.nodes.enrich.output.childToken, `${CHILD_SECRET.length} characters`);
  const everything = [
    JSON.stringify(ok.body),
    JSON.stringify(child.body),
    logs,
    JSON.stringify((await call("/runs?limit=100")).body),
    server.stderr(),
  ].join("\n");
  assertNoSecret(everything, "the API, the logs or the server's output");
});

Deno.test("`pipedreamer exec`: a child run gets its own project's secrets; without any it gets none, never its parent's", async () => {
  await using tree = await subWorkflowTree();
  const input = ["--input", '{"users":["ada","grace"]}', "-o", "json"];
  const own = await cli(["exec", tree.parent, ...input]);
  assertExit(own, 0);
  assert.deepEqual(stdoutJson(own).result, expectedResult(["ada", "grace"]));
  assertNoSecret(own.stdout + own.stderr, "exec's output");

  // The parent has a "child" service too: a child without secrets of its own still gets none.
  await Deno.remove(join(tree.root, "child/.secrets.yaml"));
  const none = await cli(["exec", tree.parent, ...input]);
  assertExit(none, 0);
  const result = stdoutJson<Json>(none).result;
  assert.deepEqual(result.users[0], {
    user: "ada",
    length: 3,
    services: [],
    childToken: "none",
    upper: "ADA",
  });
  assert.deepEqual(result.services, ["parent"]);
  assertNoSecret(none.stdout + none.stderr, "exec's output");
});

Deno.test("`pipedreamer dev`: a child run gets its own project's secrets, never its parent's", async () => {
  await using tree = await subWorkflowTree();
  await using dev = await startServe(["dev", tree.parent, "--port", "0"], {
    env: { PIPEDREAMER_TOKEN: "" },
  });
  const response = await fetch(`${dev.url}/run`, { method: "POST", body: '{"users":["ada"]}' });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.deepEqual(body.result, expectedResult(["ada"]));
  assertNoSecret(JSON.stringify(body) + dev.stderr(), "dev's answer or output");
});
