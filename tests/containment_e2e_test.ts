/**
 * Containment end to end (issue 12), through the real CLI: hostile nodes — a memory bomb, a
 * node signalling the engine, a node killing its own sandbox — fail their own attempts while
 * `exec` and `serve` keep going.
 */

import assert from "node:assert/strict";
import { assertExit, cli, stdoutJson, tempDir } from "./_cli.ts";
import { startServe } from "./_serve.ts";
import { assertContained, HOSTILE_DIR } from "./_containment.ts";

const DIR = HOSTILE_DIR;

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("`pipedreamer exec`: hostile nodes fail alone and the run completes", async () => {
  const result = await cli(["exec", DIR, "-o", "json"]);
  assertExit(result, 0);
  const record = stdoutJson<Json>(result);
  assert.equal(record.status, "succeeded");
  assertContained(record.result);
  for (const id of ["bomb", "killer", "suicide"]) {
    assert.equal(record.nodes[id].status, "failed", id);
  }
});

Deno.test("`pipedreamer serve`: a memory bomb and kills leave the server answering and running", async () => {
  await using data = await tempDir();
  await using server = await startServe([
    "serve",
    DIR,
    ...["--port", "0", "--host", "127.0.0.1", "--data", `${data.path}/runs.db`, "--no-auth"],
  ]);
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${server.url}/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const body: Json = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.status, "succeeded");
    assertContained(body.result);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
  }
});

Deno.test("`pipedreamer serve`: secrets a node returns are redacted in every response; the child got them", async () => {
  await using project = await tempDir();
  const dir = project.path;
  await Deno.mkdir(`${dir}/nodes`);
  await Deno.writeTextFile(
    `${dir}/workflow.yaml`,
    "name: leaky\nversion: 1.0.0\nnodes:\n" +
      "  leak: { path: ./nodes/leak.ts, capabilities: { secrets: [svc] } }\n" +
      "  check: { path: ./nodes/check.ts }\n" +
      "edges:\n  - { from: leak, to: check }\n",
  );
  await Deno.writeTextFile(
    `${dir}/nodes/leak.ts`,
    'import type { Context } from "pipedreamer";\n' +
      "export default (ctx: Context) => ({ token: `Bearer ${String(\n" +
      "  (ctx.secrets.svc as { token: string }).token,\n)}` });\n",
  );
  await Deno.writeTextFile(
    `${dir}/nodes/check.ts`,
    'import type { Context } from "pipedreamer";\n' +
      "export default (_ctx: Context, input: { token: string }) => ({\n" +
      '  sawSecret: input.token === "Bearer sk-e2e-s3cr3t-value",\n  echo: input.token,\n});\n',
  );
  await Deno.writeTextFile(`${dir}/.secrets.yaml`, "svc:\n  token: sk-e2e-s3cr3t-value\n");
  await using server = await startServe([
    "serve",
    dir,
    ...["--port", "0", "--host", "127.0.0.1", "--data", `${dir}/runs.db`, "--no-auth"],
  ]);
  const response = await fetch(`${server.url}/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const body: Json = JSON.parse(text);
  assert.deepEqual(body.result, { sawSecret: true, echo: "Bearer [REDACTED]" });
  for (const path of [`/runs/${body.runId}`, "/runs", `/runs/${body.runId}/logs`]) {
    const shown = await (await fetch(`${server.url}${path}`)).text();
    assert.ok(!shown.includes("sk-e2e-s3cr3t-value"), `${path}: ${shown}`);
  }
  const record: Json = await (await fetch(`${server.url}/runs/${body.runId}`)).json();
  assert.deepEqual(record.nodes.leak.output, { token: "Bearer [REDACTED]" });
});
