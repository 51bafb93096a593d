/**
 * Sub-workflows that sleep and wait, against a real `pipedreamer serve` (SQLite and
 * PostgreSQL): the child parks like any run, survives kill -9 and its sleep ends on time, events
 * sent to the child (API, CLI on the store) resume it, and its parent resumes when it ends.
 */

import assert from "node:assert/strict";
import { assertExit, cli, stdoutJson } from "./_cli.ts";
import { freePort, startServe } from "./_serve.ts";
import { api, bothStores, pgIgnore, project, until } from "./_durable_serve.ts";
import { startPostgresServer } from "../testing/mod.ts";

bothStores(
  "`pipedreamer serve`: a child run's sleep survives kill -9 and ends on time; events to the child (API, local CLI) resume it and then its parent",
  async (store) => {
    await using p = await project("durable-wait-parent", undefined, ["durable-wait"]);
    const port = freePort();
    let runId: string;
    let childId: string;
    let dueAt: string;
    {
      await using first = await startServe(p.args({ port, store }));
      const call = api(first, p.token);
      runId = (await call("/runs", { json: { order: 7 } })).body.runId;
      const parked = await until(call, runId, (r) => r.status === "waiting", "the parked parent");
      childId = parked.nodes.sub.childRunId;
      assert.equal(parked.nodes.sub.status, "waiting");
      assert.deepEqual(parked.nodes.sub.waitingFor, { childRunId: childId });
      const child = await until(call, childId, (r) => r.status === "waiting", "the parked child");
      assert.equal(child.parentRunId, runId);
      assert.equal(child.nodes.nap.status, "waiting");
      dueAt = child.nodes.nap.waitingFor.dueAt;
      assert.ok(Date.parse(dueAt) > Date.now(), "killed before the due time");
      assert.equal((await first.stop("SIGKILL")).signal, "SIGKILL");
    }
    // A long lease: its recovery rescans (every lease / 3) cannot be what wakes a run below.
    await using second = await startServe([...p.args({ port, store }), "--lease", "10m"]);
    const call = api(second, p.token);
    const approving = await until(
      call,
      childId,
      (r) => r.status === "waiting" && r.nodes.approve?.status === "waiting",
      "the child's wait after its sleep",
    );
    assert.ok(
      Date.parse(approving.nodes.nap.finishedAt) >= Date.parse(dueAt),
      `the child's sleep ended at ${approving.nodes.nap.finishedAt}, not before ${dueAt}`,
    );
    const parent = await until(
      call,
      runId,
      (r) => r.status === "waiting" && r.nodes.sub.status === "waiting",
      "the parent parked again on its child's wait",
    );
    assert.deepEqual(parent.nodes.sub.waitingFor, { childRunId: childId });
    // The parent waits for no event itself: the child does.
    const wrong = await call(`/runs/${runId}/events/approval`, { json: {} });
    assert.equal(wrong.status, 409);
    const sent = await call(`/runs/${childId}/events/approval`, {
      json: { approved: true, comment: "child ok" },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const done = await until(call, runId, (r) => r.status === "succeeded", "the parent");
    assert.deepEqual(done.result, { child: { posted: true, comment: "child ok" } });
    assert.equal((await call(`/runs/${childId}`)).body.status, "succeeded");

    // A second run approved by `runs signal` on the store itself (no --url) while serve runs:
    // the server notices at its next poll, not only at a recovery scan.
    const next = (await call("/runs", { json: {} })).body.runId;
    const nextChild = `${next}~sub`;
    await until(
      call,
      nextChild,
      (r) => r.status === "waiting" && r.nodes.approve?.status === "waiting",
      "the second child's wait",
    );
    await until(call, next, (r) => r.status === "waiting", "the second parent to park");
    const signal = await cli([
      "runs",
      "signal",
      nextChild,
      "approval",
      "--data",
      '{"approved":false,"comment":"local"}',
      ...(store ? ["--store", store] : ["--data-dir", p.data]),
      "-o",
      "json",
    ]);
    assertExit(signal, 0);
    assert.equal(stdoutJson(signal).runId, nextChild);
    const rejected = await until(call, next, (r) => r.status === "succeeded", "the second parent");
    assert.deepEqual(rejected.result, { child: { posted: false, comment: "local" } });
    const logs = await fetch(`${second.url}/runs/${next}/logs`, {
      headers: { authorization: `Bearer ${p.token}` },
    });
    // Woken by the poll (recovery scans log no wake, and no server delivered the event).
    assert.match(await logs.text(), /Run woken on [^\n]*its child run \\"[^"\\]+~sub\\" woke/);
  },
);

Deno.test({
  name:
    "two `pipedreamer serve` replicas on PostgreSQL fire each child's timer once and resume each parent once per resolution",
  ignore: pgIgnore,
  async fn() {
    await using pg = await startPostgresServer();
    const store = await pg.createDatabase();
    await using p = await project("durable-wait-parent", undefined, ["durable-wait"]);
    await using one = await startServe(p.args({ store }));
    await using two = await startServe(p.args({ store }));
    const calls = [api(one, p.token), api(two, p.token)];
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await calls[i % 2]!("/runs", { json: { i } })).body.runId);
    }
    for (const [i, id] of ids.entries()) {
      const call = calls[i % 2]!;
      await until(
        call,
        `${id}~sub`,
        (r) => r.status === "waiting" && r.nodes.approve?.status === "waiting",
        `the child of ${id} at its wait`,
      );
      await until(
        call,
        id,
        (r) => r.status === "waiting" && r.nodes.sub?.status === "waiting",
        `${id} parked again`,
      );
      const text = await (await fetch(`${one.url}/runs/${id}/logs`, {
        headers: { authorization: `Bearer ${p.token}` },
      })).text();
      // The child's timer fired once: the parent was resumed once (by whichever replica woke it).
      const resumed = text.split("\n").filter((l) => /Run resumed by/.test(l));
      assert.equal(resumed.length, 1, text);
      // The event goes to the child through the other replica.
      const sent = await calls[(i + 1) % 2]!(`/runs/${id}~sub/events/approval`, {
        json: { approved: true, comment: `run ${i}` },
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    }
    for (const [i, id] of ids.entries()) {
      const done = await until(calls[0]!, id, (r) => r.status === "succeeded", `${id} done`);
      assert.deepEqual(done.result, { child: { posted: true, comment: `run ${i}` } });
      const logs = await (await fetch(`${one.url}/runs/${id}/logs`, {
        headers: { authorization: `Bearer ${p.token}` },
      })).text();
      // Woken by the resolving replica, the other's poll or a recovery scan: resumed once each.
      const resumes = logs.split("\n").filter((l) => /Run resumed by/.test(l));
      assert.equal(resumes.length, 2, `one resumption per resolution: ${logs}`);
    }
  },
});
