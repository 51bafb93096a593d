import assert from "node:assert/strict";
import { startNatsTriggers } from "./start_nats_triggers.ts";
import { natsTest } from "./testdata/nats_testing.ts";
import { queueHarness, waitFor } from "./testdata/queue_harness.ts";

natsTest(
  "`startNatsTriggers()` wires a webhook to its subject and the queue trigger to runs",
  async (url) => {
    const h = await queueHarness(url);
    h.workflow.webhooks = { ci: { subject: h.trigger.subject, verify: "bearer", secret: "ci" } };
    const nats = await startNatsTriggers(h.workflow, {
      natsUrl: url,
      runs: h.manager,
      secrets: { ci: "ci-token" },
      consumer: { fetchExpiresMs: 1_000 },
    });
    try {
      const response = await nats.webhooks!(
        new Request("http://engine/hooks/ci", {
          method: "POST",
          headers: { Authorization: "Bearer ci-token", "Content-Type": "application/json" },
          body: JSON.stringify({ from: "hook" }),
        }),
      );
      assert.equal(response.status, 202);
      const { seq, stream } = await response.json();
      assert.deepEqual([stream, seq], [h.trigger.stream, 1]);
      await waitFor(
        async () => (await h.runs()).some((r) => r.status === "succeeded"),
        "the run",
      );
      assert.deepEqual((await h.runs()).map((r) => [r.input, r.trigger]), [[
        { from: "hook" },
        "queue",
      ]]);
      await waitFor(
        () => nats.metrics().includes("pipedreamer_queue_messages_acked_total"),
        "the ack",
      );
      const text = nats.metrics();
      assert.match(text, /^pipedreamer_webhook_requests_total\{hook="ci",status="202"\} 1$/m);
      assert.match(
        text,
        /^pipedreamer_queue_messages_acked_total\{workflow="test-flow",subject="[^"]+"\} 1$/m,
      );
    } finally {
      await nats.stop();
      await nats.close();
      await h.close();
    }
  },
);

natsTest(
  "`startNatsTriggers()` has no webhook handler without webhooks and fails on a missing secret",
  async (url) => {
    const h = await queueHarness(url);
    try {
      const nats = await startNatsTriggers(h.workflow, { natsUrl: url, runs: h.manager });
      assert.equal(nats.webhooks, undefined);
      await nats.stop();
      await nats.close();
      h.workflow.webhooks = { gh: { subject: "a.b", verify: "github", secret: "nope" } };
      await assert.rejects(
        startNatsTriggers(h.workflow, { natsUrl: url, runs: h.manager }),
        /^TypeError: Cannot configure webhook "gh": secret "nope" is not in the loaded secrets/,
      );
    } finally {
      await h.close();
    }
  },
);
