import assert from "node:assert/strict";
import type { CompiledWorkflow, NodeRecord, RunRecord } from "../engine/mod.ts";
import { MAX_PENDING, RunMetrics } from "./_run_metrics.ts";

const WORKFLOW = { name: "wf", nodes: {}, onError: undefined } as unknown as CompiledWorkflow;

function run(status: RunRecord["status"]): RunRecord {
  return {
    workflow: "wf",
    status,
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1500,
  } as unknown as RunRecord;
}

function node(status: NodeRecord["status"], attempts: number): NodeRecord {
  return { status, attempts, durationMs: 20 } as unknown as NodeRecord;
}

Deno.test("`RunMetrics` keeps what it counted before prom-client is loaded, with the values of then", async () => {
  const metrics = new RunMetrics(() => ({ workflow: "wf", running: 2, queued: 5 }), {
    processMetrics: false,
  });
  try {
    metrics.seed("wf");
    const record = run("succeeded");
    metrics.runFinished(record);
    metrics.runFinished(run("failed"));
    const failed = node("failed", 3);
    metrics.nodeUpdated(WORKFLOW, "a", failed);
    metrics.nodeUpdated(WORKFLOW, "a", node("running", 1)); // not final: not counted
    assert.equal(metrics.loaded, false, "prom-client is not loaded by counting");
    // Records change later (the live record is passed): what was counted must not.
    record.durationMs = 999_000;
    failed.attempts = 40;

    const text = await metrics.render();
    assert.equal(metrics.loaded, true);
    assert.match(text, /^pipedreamer_runs_total\{workflow="wf",status="succeeded"\} 1$/m);
    assert.match(text, /^pipedreamer_runs_total\{workflow="wf",status="failed"\} 1$/m);
    assert.match(text, /^pipedreamer_runs_total\{workflow="wf",status="cancelled"\} 0$/m);
    assert.match(
      text,
      /^pipedreamer_run_duration_seconds_bucket\{le="2.5",workflow="wf",status="succeeded"\} 1$/m,
    );
    assert.match(
      text,
      /^pipedreamer_run_duration_seconds_sum\{workflow="wf",status="succeeded"\} 1.5$/m,
    );
    assert.match(text, /^pipedreamer_node_attempts_total\{workflow="wf",node="a"\} 3$/m);
    assert.match(text, /^pipedreamer_node_failures_total\{workflow="wf",node="a"\} 1$/m);
    assert.match(text, /^pipedreamer_runs_in_flight\{workflow="wf"\} 2$/m);
    assert.match(text, /^pipedreamer_queue_depth\{workflow="wf"\} 5$/m);

    // Once loaded, counts go straight to the counters; nothing is replayed twice.
    metrics.runFinished(run("succeeded"));
    const after = await metrics.render("openmetrics");
    assert.match(after, /^pipedreamer_runs_total\{workflow="wf",status="succeeded"\} 2$/m);
    assert.match(after, /^pipedreamer_runs_total\{workflow="wf",status="failed"\} 1$/m);
  } finally {
    metrics.stop();
  }
});

Deno.test("`RunMetrics` loads prom-client itself once MAX_PENDING transitions wait, losing none", async () => {
  const metrics = new RunMetrics(() => ({ workflow: "wf", running: 0, queued: 0 }), {
    processMetrics: false,
  });
  try {
    for (let i = 0; i < MAX_PENDING + 5; i++) metrics.runFinished(run("succeeded"));
    const text = await metrics.render();
    assert.match(
      text,
      new RegExp(
        `^pipedreamer_runs_total\\{workflow="wf",status="succeeded"\\} ${MAX_PENDING + 5}$`,
        "m",
      ),
    );
  } finally {
    metrics.stop();
  }
});

Deno.test("`RunMetrics.render()` of a server that counted nothing shows the seeded zero series", async () => {
  const metrics = new RunMetrics(() => ({ workflow: "wf", running: 0, queued: 0 }));
  try {
    metrics.seed("wf");
    const text = await metrics.render();
    assert.match(text, /^pipedreamer_runs_total\{workflow="wf",status="succeeded"\} 0$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
  } finally {
    metrics.stop();
  }
});
