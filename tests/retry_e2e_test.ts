import assert from "node:assert/strict";
import { assertExit, cli, stdoutJson } from "./_cli.ts";
import { sseReader, startServe } from "./_serve.ts";
import { Counter, flakyProject } from "./_flaky.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("retry from the failed node reuses succeeded nodes; history keeps every attempt's error", async (t) => {
  await using counter = new Counter();
  await using project = await flakyProject(counter);
  await using server = await startServe([
    "serve",
    project.dir,
    ...["--port", "0", "--host", "127.0.0.1", "--no-auth"],
    ...["--data", project.data, "--config-dir", project.configDir],
  ]);
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}${path}`, init);
    return { status: response.status, body: await response.json() as Json };
  };
  /** Waits for the run's end through its event stream (no polling), then reads its record. */
  const ended = async (runId: string): Promise<Json> => {
    const response = await fetch(`${server.url}/runs/${runId}/logs`, {
      headers: { accept: "text/event-stream" },
    });
    const events = sseReader(response);
    for (let event = await events.next(); event; event = await events.next()) {
      if (event.event === "end") break;
    }
    await events.cancel();
    return (await api(`/runs/${runId}`)).body;
  };

  counter.failing.add("middle");
  const failed = await api("/run", { method: "POST", body: '{"n":1}' });
  assert.equal(failed.status, 422);
  const original = failed.body;
  assert.equal(original.status, "failed");

  await t.step("history holds each attempt with its real error", async () => {
    const stored = (await api(`/runs/${original.runId}`)).body;
    const middle = stored.nodes.middle;
    assert.equal(middle.attempts, 2);
    assert.deepEqual(
      middle.history.map((h: Json) => [h.attempt, h.status, h.error?.message]),
      [
        [1, "failed", "middle: the counter answered 500: refusal #1"],
        [2, "failed", "middle: the counter answered 500: refusal #2"],
      ],
    );
    for (const h of middle.history) assert.ok(Date.parse(h.finishedAt) >= Date.parse(h.startedAt));
    assert.deepEqual(stored.nodes.first.history.map((h: Json) => h.status), ["succeeded"]);
    assert.equal(stored.nodes.last.status, "skipped");
    const shown = await cli(["runs", "show", original.runId, "--url", server.url]);
    assertExit(shown, 0);
    assert.match(shown.stdout, /^attempts of middle$/m);
    assert.match(shown.stdout, /#1 {2}failed .*middle: the counter answered 500: refusal #1$/m);
    assert.match(shown.stdout, /#2 {2}failed .*refusal #2$/m);
  });

  let retried: Json;
  await t.step("POST /runs/:id/retry re-runs the failed node, not the succeeded one", async () => {
    counter.failing.clear();
    const started = await api(`/runs/${original.runId}/retry`, { method: "POST" });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.retryOf, original.runId);
    assert.equal(started.body.warning, undefined);
    retried = await ended(started.body.runId);
    assert.equal(retried.status, "succeeded");
    assert.equal(retried.retryOf, original.runId);
    assert.equal(retried.trigger, "retry");
    assert.deepEqual(retried.input, { n: 1 });
    assert.equal(retried.codeHash, original.codeHash);
    // The loopback counter proves it: first ran once in all, in the original run only.
    assert.equal(counter.count("first"), 1);
    assert.equal(counter.count("first", retried.runId), 0);
    assert.equal(counter.count("middle", retried.runId), 1);
    assert.equal(counter.count("last", retried.runId), 1);
    assert.equal(retried.nodes.first.reusedFrom, original.runId);
    assert.deepEqual(retried.nodes.first.output, original.nodes.first.output);
    assert.deepEqual(retried.result, {
      n: 1,
      first: { call: 1 },
      middle: { call: 3 },
      last: { call: 1 },
    });
  });

  await t.step("{ from } re-runs that node and its descendants only", async () => {
    const started = await api(`/runs/${retried.runId}/retry`, {
      method: "POST",
      body: JSON.stringify({ from: "last" }),
    });
    assert.equal(started.status, 202);
    const again = await ended(started.body.runId);
    assert.equal(again.status, "succeeded");
    assert.equal(again.retryFrom, "last");
    assert.equal(counter.count("first"), 1);
    assert.equal(counter.count("middle", again.runId), 0);
    assert.equal(counter.count("last", again.runId), 1);
    // A reused node names the run that really executed it.
    assert.equal(again.nodes.first.reusedFrom, original.runId);
    assert.equal(again.nodes.middle.reusedFrom, retried.runId);
  });

  await t.step("bad retries get 404, 409 and 400", async () => {
    assert.equal((await api("/runs/nope/retry", { method: "POST" })).status, 404);
    const succeeded = await api(`/runs/${retried.runId}/retry`, { method: "POST" });
    assert.equal(succeeded.status, 409);
    assert.match(succeeded.body.error.message, /it succeeded; pass \{ "from": "<node>" \}/);
    const badFrom = await api(`/runs/${original.runId}/retry`, {
      method: "POST",
      body: '{"from":"nope"}',
    });
    assert.equal(badFrom.status, 400);
    assert.match(
      badFrom.body.error.message,
      /no such node in workflow "flaky"; nodes: first, middle, last/,
    );
    for (const body of ['{"form":"last"}', "[1]", '{"from":3}', "{"]) {
      const bad = await api(`/runs/${original.runId}/retry`, { method: "POST", body });
      assert.equal(bad.status, 400, body);
    }
  });

  await t.step(
    "GET /metrics: prom-client text with today's series, OpenMetrics on request",
    async () => {
      const text = await fetch(`${server.url}/metrics`);
      assert.match(text.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
      const body = await text.text();
      assert.match(body, /^pipedreamer_runs_total\{workflow="flaky",status="failed"\} 1$/m);
      assert.match(body, /^pipedreamer_node_attempts_total\{workflow="flaky",node="middle"\} 3$/m);
      assert.match(body, /^pipedreamer_runs_in_flight\{workflow="flaky"\} 0$/m);
      assert.match(body, /^process_resident_memory_bytes \d+/m);
      const open = await fetch(`${server.url}/metrics`, {
        headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
      });
      assert.match(
        open.headers.get("content-type")!,
        /^application\/openmetrics-text; version=1\.0\.0/,
      );
      const openBody = await open.text();
      assert.match(openBody, /^# TYPE pipedreamer_runs counter$/m);
      assert.match(openBody, /^pipedreamer_runs_total\{workflow="flaky",status="succeeded"\} 2$/m);
      assert.ok(openBody.endsWith("# EOF\n"));
    },
  );

  await t.step("`runs retry --url` and `runs retry` on the local store", async () => {
    counter.failing.add("middle");
    const viaCli = await cli(["runs", "retry", original.runId, "--url", server.url, "-o", "json"]);
    assertExit(viaCli, 0);
    const started = stdoutJson<Json>(viaCli);
    const record = await ended(started.runId);
    assert.equal(record.status, "failed");
    assert.equal(counter.count("first", started.runId), 0);
    await server.stop();
    // With the server stopped, the CLI executes the retry itself over the same store.
    counter.failing.clear();
    const local = await cli([
      "runs",
      "retry",
      original.runId,
      "--dir",
      project.dir,
      "--data",
      project.data,
    ]);
    assertExit(local, 0);
    const runId = local.stdout.match(/^run (\S+) retries /m)![1]!;
    assert.match(local.stdout, /^status {4}succeeded$/m);
    assert.match(local.stdout, /^first +succeeded \(reused from [0-9a-f-]+\)/m);
    assert.equal(counter.count("first"), 1);
    assert.equal(counter.count("middle", runId), 1);
    const missing = await cli([
      "runs",
      "retry",
      "nope",
      "--dir",
      project.dir,
      "--data",
      project.data,
    ]);
    assertExit(missing, 1);
    assert.match(missing.stderr, /Cannot find run "nope"/);
  });
});
