/**
 * Run leases between real `pipedreamer serve` processes sharing one real PostgreSQL store:
 * replicas with the same host:port never execute one run twice, and a replica paused past its
 * lease (SIGSTOP) writes nothing once it resumes while another replica finishes its run.
 */

import assert from "node:assert/strict";
import { PostgresStore, type RunStore } from "../store/mod.ts";
import { ignoreWithoutPostgres, startPostgresServer, waitFor } from "../testing/mod.ts";
import {
  CallbackServer,
  freePort,
  gatedProject,
  gatedServeArgs,
  type ServeProcess,
  startServe,
} from "./_serve.ts";

const POLL = { timeoutMs: 120_000, intervalMs: 100 };
const RUNS = 10;

type Project = Awaited<ReturnType<typeof gatedProject>>;

/** `serve` of the gated project on `host:port`, sharing the Postgres store `url`. */
function replica(project: Project, url: string, host: string, port: number, lease = "2s") {
  const args = gatedServeArgs(project, { port, grace: "1s" });
  args[args.indexOf("--host") + 1] = host;
  return startServe([...args, "--store", url, "--lease", lease]);
}

async function submit(server: ServeProcess, token: string): Promise<string> {
  const response = await fetch(`${server.url}/runs`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: '{"n":1}',
  });
  assert.equal(response.status, 202, await response.clone().text());
  return (await response.json()).runId;
}

/** Every run's status, once all of them are finished. */
async function finished(store: RunStore, runIds: string[]): Promise<string[]> {
  let statuses: string[] = [];
  await waitFor(
    async () => {
      statuses = await Promise.all(runIds.map(async (id) => (await store.getRun(id))!.status));
      return statuses.every((s) => s === "succeeded" || s === "failed" || s === "cancelled");
    },
    "every run to finish",
    POLL,
  );
  return statuses;
}

Deno.test({
  name: "two `serve` replicas with the same host:port on one Postgres store execute each node once",
  ignore: ignoreWithoutPostgres(),
  async fn() {
    await using pg = await startPostgresServer();
    const url = await pg.createDatabase();
    await using callback = new CallbackServer();
    await using project = await gatedProject(callback);
    const store = await PostgresStore.open(url);
    try {
      // One host with two addresses: both replicas are "<hostname>:<port>".
      const port = freePort();
      callback.hold("middle");
      await using a = await replica(project, url, "127.0.0.1", port);
      const runIds: string[] = [];
      for (let i = 0; i < RUNS; i++) runIds.push(await submit(a, project.token));
      await callback.waitForCall("middle", RUNS);
      // B's start-up recovery and its periodic scans see A's ten running runs.
      await using b = await replica(project, url, "127.0.0.2", port);
      for (let i = 0; i < RUNS; i++) runIds.push(await submit(b, project.token));
      await callback.waitForCall("middle", 2 * RUNS);
      callback.release("middle");
      assert.deepEqual(await finished(store, runIds), runIds.map(() => "succeeded"));
      for (const runId of runIds) {
        for (const node of ["first", "middle", "last"]) {
          assert.equal(callback.count(node, runId), 1, `${node} of ${runId} ran once`);
        }
      }
      assert.equal((await a.stop("SIGTERM")).code, 0, a.stderr());
      assert.equal((await b.stop("SIGTERM")).code, 0, b.stderr());
      assert.doesNotMatch(a.stderr() + b.stderr(), /took it over|lease/i);
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name: "a `serve` replica paused past its lease (SIGSTOP) writes nothing after it resumes",
  ignore: ignoreWithoutPostgres(),
  async fn() {
    await using pg = await startPostgresServer();
    const url = await pg.createDatabase();
    await using callback = new CallbackServer();
    await using project = await gatedProject(callback);
    const store = await PostgresStore.open(url);
    try {
      callback.hold("middle");
      await using a = await replica(project, url, "127.0.0.1", 0);
      await using b = await replica(project, url, "127.0.0.1", 0);
      const runId = await submit(a, project.token);
      await callback.waitForCall("middle", 1, runId);
      // With pipelined hooks `middle` may start before `first`'s success is stored: pause A
      // only once it is, so what the takeover re-runs is exactly the interrupted node.
      await waitFor(
        async () => (await store.getRun(runId))?.nodes.first?.status === "succeeded",
        "first's success to be stored",
      );
      a.child.kill("SIGSTOP");
      // B takes the run over once A's lease (2 s) lapses and runs the interrupted node again.
      await callback.waitForCall("middle", 2, runId);
      // Both held calls are answered: A's answer waits in its socket while it is stopped.
      callback.release("middle");
      assert.deepEqual(await finished(store, [runId]), ["succeeded"]);
      const record = await store.getRun(runId);
      const logs = await store.getLogs(runId);
      assert.match(logs.map((l) => l.msg).join("\n"), /Run resumed by "[^"]+"/);

      a.child.kill("SIGCONT");
      await a.waitForStderr(/another replica took it over/);
      assert.equal((await a.stop("SIGTERM")).code, 0, a.stderr());
      // Nothing A did after resuming reached the store, and A started no node after `middle`.
      assert.deepEqual(await store.getRun(runId), record);
      assert.deepEqual(await store.getLogs(runId), logs);
      assert.equal(callback.count("first", runId), 1);
      assert.equal(callback.count("middle", runId), 2);
      assert.equal(callback.count("last", runId), 1, "only B ran the last node");
      assert.equal(
        logs.filter((l) => l.msg === "released middle").length,
        1,
        "A's node log line after the pause was refused",
      );
      assert.equal((await b.stop("SIGTERM")).code, 0, b.stderr());
    } finally {
      await store.close();
    }
  },
});
