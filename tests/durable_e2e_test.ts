import assert from "node:assert/strict";
import { assertExit, cli, stdoutJson } from "./_cli.ts";
import { CallbackServer, freePort, startServe } from "./_serve.ts";
import { startPostgresServer } from "../testing/mod.ts";
import { api, bothStores, type Json, pgIgnore, project, until } from "./_durable_serve.ts";

async function mapTenThousand(store?: string) {
  await using p = await project("durable-map");
  await using server = await startServe(p.args({ store }));
  const call = api(server, p.token);
  const started = await call("/run", { json: { n: 10_000 } });
  assert.equal(started.status, 200, JSON.stringify(started.body).slice(0, 2000));
  const record = started.body;
  assert.deepEqual(record.result, { count: 10_000, sum: 9_999 * 10_000 });
  assert.deepEqual(record.nodes.each.items, {
    total: 10_000,
    succeeded: 10_000,
    failed: 0,
    running: 0,
  });
  // Per-element records are paged apart from the run record.
  let cursor: string | null = null;
  let seen = 0;
  let pages = 0;
  do {
    const page = await call(
      `/runs/${record.runId}/nodes/each/items?limit=1000${cursor ? `&cursor=${cursor}` : ""}`,
    );
    assert.equal(page.status, 200);
    assert.equal(page.body.total, 10_000);
    for (const item of page.body.items) {
      assert.equal(item.index, seen);
      assert.equal(item.output, seen * 2);
      assert.equal(item.status, "succeeded");
      seen++;
    }
    cursor = page.body.nextCursor;
    pages++;
  } while (cursor !== null);
  assert.equal(seen, 10_000);
  assert.equal(pages, 10);
  const bad = await call(`/runs/${record.runId}/nodes/each/items?cursor=x`);
  assert.equal(bad.status, 400);
  const missing = await call(`/runs/${record.runId}/nodes/nope/items`);
  assert.equal(missing.status, 404);
}

Deno.test("`pipedreamer serve` maps over 10,000 elements (SQLite)", () => mapTenThousand());

Deno.test({
  name: "`pipedreamer serve` maps over 10,000 elements (PostgreSQL)",
  ignore: pgIgnore,
  async fn() {
    await using pg = await startPostgresServer();
    await mapTenThousand(await pg.createDatabase());
  },
});

bothStores(
  "`pipedreamer serve` killed -9 in the middle of a map re-runs only the unfinished elements",
  async (store) => {
    await using callback = new CallbackServer();
    await using p = await project("durable-map", callback);
    const port = freePort();
    callback.hold("held");
    let runId: string;
    {
      await using first = await startServe(p.args({ port, store }));
      const call = api(first, p.token);
      const started = await call("/runs", { json: { n: 40, call: true, holdFrom: 20 } });
      assert.equal(started.status, 202);
      runId = started.body.runId;
      // Elements 0-19 finished and stored; 20-23 hold the map's 4 slots.
      await callback.waitForCall("held", 4, runId);
      await until(call, runId, (r) => r.nodes.each?.items?.succeeded === 20, "20 stored elements");
      const stored = await call(`/runs/${runId}/nodes/each/items?status=succeeded&limit=1000`);
      assert.equal(stored.body.items.length, 20);
      assert.equal((await first.stop("SIGKILL")).signal, "SIGKILL");
    }
    callback.release("held");
    await using second = await startServe(p.args({ port, store }));
    const call = api(second, p.token);
    const done = await until(call, runId, (r) => r.status === "succeeded", "the resumed run");
    assert.deepEqual(done.result, { count: 40, sum: 39 * 40 });
    for (let i = 0; i < 40; i++) {
      const expected = i >= 20 && i < 24 ? 2 : 1;
      assert.equal(callback.count(`each-${i}`, runId), expected, `element ${i} ran ${expected}x`);
    }
  },
);

bothStores(
  "`pipedreamer serve` ends a sleep across kill -9 at its original due time, then takes an approval from the API and the CLI",
  async (store) => {
    await using p = await project("durable-wait");
    const port = freePort();
    let runId: string;
    let dueAt: string;
    {
      await using first = await startServe(p.args({ port, store }));
      const call = api(first, p.token);
      runId = (await call("/runs", { json: { order: 7 } })).body.runId;
      const parked = await until(call, runId, (r) => r.status === "waiting", "the sleep");
      assert.equal(parked.nodes.nap.status, "waiting");
      dueAt = parked.nodes.nap.waitingFor.dueAt;
      assert.ok(Date.parse(dueAt) > Date.now(), "killed before the due time");
      await first.stop("SIGKILL");
    }
    await using second = await startServe(p.args({ port, store }));
    const call = api(second, p.token);
    const approving = await until(
      call,
      runId,
      (r) => r.status === "waiting" && r.nodes.approve?.status === "waiting",
      "the wait after the sleep",
    );
    assert.equal(approving.status, "waiting");
    assert.deepEqual(approving.nodes.approve.waitingFor.event, "approval");
    assert.ok(
      Date.parse(approving.nodes.nap.finishedAt) >= Date.parse(dueAt),
      `the sleep ended at ${approving.nodes.nap.finishedAt}, not before ${dueAt}`,
    );
    const logs = await fetch(`${second.url}/runs/${runId}/logs`, {
      headers: { authorization: `Bearer ${p.token}` },
    });
    assert.match(await logs.text(), /Run woken on .*timer of node \\"nap\\" fired/);

    // The API refuses what it cannot deliver.
    assert.equal((await call(`/runs/nope/events/approval`, { json: {} })).status, 404);
    const other = await call(`/runs/${runId}/events/other`, { json: {} });
    assert.equal(other.status, 409);
    assert.match(other.body.error.message, /it waits for "approval"/);

    // The CLI delivers it through the server.
    const signal = await cli([
      "runs",
      "signal",
      runId,
      "approval",
      "--data",
      '{"approved":true,"comment":"ship it"}',
      "--url",
      second.url,
      "--token",
      p.token,
      "-o",
      "json",
    ]);
    assertExit(signal, 0);
    assert.equal(stdoutJson(signal).runId, runId);
    const done = await until(call, runId, (r) => r.status === "succeeded", "the approved run");
    assert.deepEqual(done.result, { posted: true, comment: "ship it" });
    assert.deepEqual(done.nodes.approve.output, { approved: true, comment: "ship it" });
    const again = await call(`/runs/${runId}/events/approval`, { json: {} });
    assert.equal(again.status, 409);

    // A second run approved through the API.
    const next = (await call("/runs", { json: {} })).body.runId;
    await until(
      call,
      next,
      (r) => r.status === "waiting" && r.nodes.approve?.status === "waiting",
      "the second wait",
    );
    const sent = await call(`/runs/${next}/events/approval`, {
      json: { approved: false, comment: "no" },
    });
    assert.equal(sent.status, 200);
    const rejected = await until(call, next, (r) => r.status === "succeeded", "the rejected run");
    assert.deepEqual(rejected.result, { posted: false, comment: "no" });
  },
);

bothStores("`pipedreamer serve`: a waiting run does not hold a maxRuns slot", async (store) => {
  await using p = await project("durable-wait");
  await using server = await startServe(p.args({ store }));
  const call = api(server, p.token);
  // maxRuns is 1: three runs park one after another, none waits in the queue for a slot.
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await call("/runs", { json: { i } })).body.runId);
  for (const id of ids) {
    await until(
      call,
      id,
      (r) => r.status === "waiting" && r.nodes.approve?.status === "waiting",
      `run ${id} to wait`,
    );
  }
  const waiting = await call("/runs?status=waiting");
  assert.deepEqual(waiting.body.runs.map((r: Json) => r.runId).sort(), [...ids].sort());
  const metrics = await fetch(`${server.url}/metrics`, {
    headers: { authorization: `Bearer ${p.token}` },
  });
  assert.match(await metrics.text(), /pipedreamer_runs_in_flight\{workflow="durable-wait"\} 0/);
});

Deno.test({
  name: "two `pipedreamer serve` replicas on PostgreSQL fire each stored timer once",
  ignore: pgIgnore,
  async fn() {
    await using pg = await startPostgresServer();
    const store = await pg.createDatabase();
    await using p = await project("durable-wait");
    await using one = await startServe(p.args({ store }));
    await using two = await startServe(p.args({ store }));
    const calls = [api(one, p.token), api(two, p.token)];
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await calls[i % 2]!("/runs", { json: { i } })).body.runId);
    }
    for (const id of ids) {
      await until(
        calls[0]!,
        id,
        (r) => r.status === "waiting" && r.nodes.approve?.status === "waiting",
        `run ${id}`,
      );
      const text = await (await fetch(`${one.url}/runs/${id}/logs`, {
        headers: { authorization: `Bearer ${p.token}` },
      })).text();
      const fired = text.split("\n").filter((l) => /timer of node \\"nap\\" fired/.test(l));
      assert.equal(fired.length, 1, text);
    }
  },
});

bothStores(
  "`pipedreamer serve`: ctx.step does not run again across a retry or a kill -9",
  async (store) => {
    await using callback = new CallbackServer();
    await using p = await project("durable-step", callback);
    const port = freePort();
    let held: string;
    {
      await using first = await startServe(p.args({ port, store }));
      const call = api(first, p.token);
      const retried = await call("/run", { json: { failOnce: true } });
      assert.equal(retried.status, 200, JSON.stringify(retried.body));
      assert.equal(retried.body.result.attempt, 2);
      assert.equal(callback.count("invoice", retried.body.runId), 1, "the step ran once");

      callback.hold("held");
      held = (await call("/runs", { json: { hold: true } })).body.runId;
      await callback.waitForCall("held", 1, held);
      assert.equal((await first.stop("SIGKILL")).signal, "SIGKILL");
    }
    callback.release("held");
    await using second = await startServe(p.args({ port, store }));
    const done = await until(api(second, p.token), held, (r) => r.status === "succeeded", "resume");
    assert.deepEqual(done.result.invoice, { node: "invoice", call: 2 });
    assert.equal(callback.count("invoice", held), 1, "the step did not run again after kill -9");
    assert.equal(callback.count("held", held), 2, "the node itself ran again");
  },
);
