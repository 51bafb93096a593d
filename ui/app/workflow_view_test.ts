import assert from "node:assert/strict";
import { describeWorkflow } from "../describe_workflow.ts";
import { DIAMOND, SINGLE } from "../testdata/_workflows.ts";
import { rowsWith, textOf } from "./testdata/_markup.ts";
import {
  describeCapabilities,
  describeSandbox,
  describeTrigger,
  renderInputSchema,
  renderNodesTable,
  renderWorkflowSummary,
} from "./workflow_view.ts";

const INFO = describeWorkflow(DIAMOND);

Deno.test("`describeTrigger()` names every trigger kind", () => {
  const table: [Parameters<typeof describeTrigger>[0], string][] = [
    [{ type: "manual" }, "manual (CLI, HTTP API, this dashboard)"],
    [{ type: "cron", schedule: "0 9 * * *" }, "cron 0 9 * * * (UTC)"],
    [
      { type: "cron", schedule: "0 9 * * *", timezone: "Europe/Paris" },
      "cron 0 9 * * * (Europe/Paris)",
    ],
    [{ type: "queue", subject: "ev.push", durable: "d" }, "queue ev.push"],
    [
      { type: "queue", subject: "ev", durable: "d", stream: "EV", maxConcurrency: 4 },
      "queue ev (stream EV, max 4 at once)",
    ],
  ];
  for (const [trigger, text] of table) assert.equal(describeTrigger(trigger), text);
});

Deno.test("`renderWorkflowSummary()` shows version, code hash, triggers and escapes text", () => {
  const summary = renderWorkflowSummary(INFO);
  const text = textOf(summary);
  assert.match(text, /^Workflow diamond A diamond <with> markup-looking text Version 2\.1\.0/);
  assert.ok(text.includes(`Code hash ${DIAMOND.codeHash}`));
  assert.match(
    text,
    /Triggers manual \(CLI, HTTP API, this dashboard\) cron 0 9 \* \* \* \(Europe\/Paris\)$/,
  );
  assert.ok(!summary.value.includes("<with>"));
});

Deno.test("`renderNodesTable()` lists capabilities and limits per node", () => {
  const rows = rowsWith(renderNodesTable(INFO, "b"), "data-node-row");
  assert.equal(rows.length, 5);
  assert.match(
    textOf(rows[0]!),
    /^fetch module nodes\/fetch\.ts net: api\.github\.com 256Mi 10\.0 s 2 fails the run — [0-9a-f]{12}$/,
  );
  assert.match(
    textOf(rows[1]!),
    /^a module nodes\/a\.ts none 256Mi 30\.0 s 1 fails the run 10 min 00 s/,
  );
  assert.match(
    textOf(rows[2]!),
    /^b subprocess python3 \.\/nodes\/b\.py run: python3 — 30\.0 s 1 allowed —/,
  );
  assert.match(textOf(rows[4]!), /^notify \(onError\)/);
  assert.match(rows[2]!, /class="selected"/);
  assert.doesNotMatch(rows[0]!, /class="selected"/);
  assert.equal(
    describeCapabilities({ ...INFO.nodes[0]!, capabilities: { net: [], run: [], k8s: true } }),
    "k8s",
  );
  assert.equal(
    describeSandbox({ ...INFO.nodes[0]!, memoryMiB: 1024, isolation: "run" }),
    "1Gi, fresh per run",
  );
});

Deno.test("`renderInputSchema()` shows the schema or says any input goes", () => {
  assert.match(textOf(renderInputSchema(INFO)), /"required": \[ "repo" \]/);
  assert.match(textOf(renderInputSchema(describeWorkflow(SINGLE))), /any JSON input is accepted/);
});
