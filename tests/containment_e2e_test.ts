/**
 * Containment end to end (issue 12), through the real CLI: hostile nodes — a memory bomb, a
 * node signalling the engine, a node killing its own sandbox — fail their own attempts while
 * `exec` and `serve` keep going.
 */

import assert from "node:assert/strict";
import { assertExit, cli, stdoutJson, tempDir } from "./_cli.ts";
import { startServe } from "./_serve.ts";

const DIR = "tests/testdata/hostile";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

function assertContained(result: Json): void {
  assert.equal(
    result.bomb,
    'Cannot run node "bomb": it exceeded its memory limit of 48 MiB; raise limits: { memory: … } ' +
      "on the node in workflow.yaml if it needs more",
  );
  assert.equal(result.killer, "every kill was refused: NotCapable, NotCapable, NotCapable");
  assert.match(
    result.suicide,
    /^Cannot run node "suicide": its sandbox process was killed by signal SIGKILL/,
  );
}

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
