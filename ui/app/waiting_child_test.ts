import assert from "node:assert/strict";
import type { RunRecord } from "../../engine/mod.ts";
import { waitingText } from "./graph_svg.ts";
import { renderWaiting } from "./run_view.ts";
import { attr, tagsWith, textOf } from "./testdata/_markup.ts";

Deno.test("`waitingText()` names the child run a sub-workflow node waits on", () => {
  assert.equal(waitingText({ childRunId: "r1~sub" }), "on child run r1~sub");
  assert.equal(waitingText({ children: 3 }), "on 3 child runs");
  assert.equal(waitingText({ children: 1 }), "on 1 child run");
  assert.equal(waitingText({ event: "approval" }), "for approval");
});

Deno.test("`renderWaiting()` links the parked child run and offers no approval on the parent", () => {
  const record: RunRecord = {
    runId: "r1",
    workflow: "w",
    version: "1.0.0",
    status: "waiting",
    input: {},
    nodes: {
      sub: { status: "waiting", attempts: 1, waitingFor: { childRunId: "r1~sub" } },
    },
  };
  const markup = renderWaiting(record).value;
  const [link] = tagsWith(markup, "href", "#/runs/r1~sub");
  assert.ok(link, markup);
  assert.equal(attr(link!, "href"), "#/runs/r1~sub");
  assert.match(textOf(markup), /Node sub waits on its child run r1~sub/);
  assert.doesNotMatch(markup, /data-action="approve"/);
});
