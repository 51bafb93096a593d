/**
 * Records keep secrets redacted while nodes pass the original data to each other, and an
 * output that cannot be stored fails its attempt instead of leaving the run stuck.
 */

import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { createRedactor } from "../secrets.ts";
import { dag, testRunner } from "../../testing/mod.ts";
import type { NodeRecord, RunRecord } from "../run_record.ts";

const secrets = { github: { token: "ghp_s3cr3tvalue" } };
const redact = createRedactor(secrets);

Deno.test("`executeRun()` redacts secrets in inputs, outputs, results and hook snapshots; children get the original", async () => {
  const runner = testRunner({
    leak: (_ctx, input) => ({
      echoed: input,
      token: "Bearer ghp_s3cr3tvalue",
      ["ghp_s3cr3tvalue"]: 1,
    }),
    check: (_ctx, input) => {
      const got = input as { token: string; echoed: { ssn: string } };
      return { sawToken: got.token === "Bearer ghp_s3cr3tvalue", copy: got.token };
    },
  });
  const snapshots: NodeRecord[] = [];
  const runs: RunRecord[] = [];
  const record = await executeRun(dag({ leak: [], check: ["leak"] }), {
    runner,
    input: { key: "ghp_s3cr3tvalue" },
    secrets,
    redact,
    hooks: {
      onNodeUpdate: (_runId, _id, node) => {
        snapshots.push(structuredClone(node));
      },
      onRunUpdate: (run) => {
        runs.push(structuredClone(run));
      },
    },
  });
  assert.equal(record.status, "succeeded");
  // The data passed on is unchanged: the child compared the real token.
  assert.equal(
    runner.calls[0]!.input && (runner.calls[0]!.input as { key: string }).key,
    "ghp_s3cr3tvalue",
  );
  assert.deepEqual(record.result, { sawToken: true, copy: "Bearer [REDACTED]" });
  assert.deepEqual(record.input, { key: "[REDACTED]" });
  assert.deepEqual(record.nodes.leak!.output, {
    echoed: { key: "[REDACTED]" },
    token: "Bearer [REDACTED]",
    "[REDACTED]": 1,
  });
  const stored = JSON.stringify({ snapshots, runs, record });
  assert.ok(!stored.includes("ghp_s3cr3tvalue"), stored);
});

Deno.test("`executeRun()` fails an attempt whose output cannot be stored, not retried, and completes the record", async () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const runner = testRunner({
    big: () => ({ n: 10n }),
    loop: () => cyclic,
  });
  for (const id of ["big", "loop"]) {
    const workflow = dag({ [id]: [] }, { nodes: { [id]: { retries: 3 } } });
    const updates: RunRecord[] = [];
    const record = await executeRun(workflow, {
      runner,
      hooks: { onRunUpdate: (run) => void updates.push(JSON.parse(JSON.stringify(run))) },
    });
    assert.equal(record.status, "failed");
    assert.equal(record.nodes[id]!.status, "failed");
    assert.equal(record.nodes[id]!.attempts, 1);
    assert.match(
      record.error!.message,
      new RegExp(
        `^Cannot store the output of node "${id}": it is not JSON data \\(.+\\); return plain JSON data$`,
      ),
    );
    assert.equal(updates.at(-1)!.status, "failed");
    JSON.stringify(record);
  }
});
