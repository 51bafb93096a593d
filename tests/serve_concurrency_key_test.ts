import assert from "node:assert/strict";
import { waitFor } from "../testing/mod.ts";
import { CallbackServer, gatedProject, gatedServeArgs, startServe } from "./_serve.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("`pipedreamer serve` applies concurrency.key: maxRuns and queueLimit per tenant", async () => {
  await using callback = new CallbackServer();
  await using project = await gatedProject(callback);
  await Deno.writeTextFile(
    `${project.dir}/workflow.yaml`,
    "concurrency: { key: /tenant, maxRuns: 1, queueLimit: 1, maxRunsTotal: 3 }\n",
    { append: true },
  );
  await using server = await startServe(gatedServeArgs(project));
  const auth = { authorization: `Bearer ${project.token}` };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { ...auth, ...init.headers } });
  const start = async (input: unknown, expected = 202): Promise<Json> => {
    const response = await api("/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    assert.equal(response.status, expected, JSON.stringify(input));
    return await response.json();
  };
  const status = async (runId: string) => (await (await api(`/runs/${runId}`)).json()).status;

  callback.hold("first");
  const acme1 = (await start({ tenant: "acme" })).runId;
  const acme2 = (await start({ tenant: "acme" })).runId;
  const beta1 = (await start({ tenant: "beta" })).runId;
  // acme's wait list (queueLimit 1) is full; beta's is not.
  const full = await start({ tenant: "acme" }, 429);
  assert.equal(full.error.code, "queue_full");
  assert.match(full.error.message, /of key \/tenant = "acme" are waiting \(queueLimit 1\)/);
  const beta2 = (await start({ tenant: "beta" })).runId;
  // One run of each tenant executes; the second of each waits although slots are free overall.
  await callback.waitForCall("first", 2);
  assert.equal(callback.count("first", acme1), 1);
  assert.equal(callback.count("first", beta1), 1);
  assert.deepEqual(
    await Promise.all([acme1, acme2, beta1, beta2].map(status)),
    ["running", "queued", "running", "queued"],
  );
  const metrics = await (await api("/metrics")).text();
  assert.match(metrics, /^pipedreamer_queue_depth\{workflow="gated"\} 2$/m);
  assert.match(metrics, /^pipedreamer_runs_in_flight\{workflow="gated"\} 2$/m);

  callback.release("first");
  for (const runId of [acme1, acme2, beta1, beta2]) {
    await waitFor(async () => (await status(runId)) === "succeeded", `run ${runId} to succeed`, {
      intervalMs: 50,
    });
  }
  // Each tenant's runs never overlapped: the second started after the first ended.
  for (const [first, second] of [[acme1, acme2], [beta1, beta2]]) {
    const a = await (await api(`/runs/${first}`)).json();
    const b = await (await api(`/runs/${second}`)).json();
    assert.ok(b.startedAt >= a.finishedAt, `${second} started before ${first} ended`);
  }
});
