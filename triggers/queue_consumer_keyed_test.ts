import assert from "node:assert/strict";
import type { ConcurrencySettings } from "../engine/mod.ts";
import { natsTest } from "./testdata/nats_testing.ts";
import { TriggerMetrics } from "./_metrics.ts";
import { startQueueTriggers } from "./queue_consumer.ts";
import { deferred, queueHarness, waitFor } from "./testdata/queue_harness.ts";

const KEYED: ConcurrencySettings = {
  maxRuns: 1,
  queueLimit: 100,
  strategy: "append",
  startDelayMs: 0,
  key: "/tenant",
  maxRunsTotal: 3,
};

/** Node "a" blocks until the test releases the message's `id`. */
function gatedNode() {
  const gates = new Map<string, ReturnType<typeof deferred<unknown>>>();
  const gate = (id: string) => {
    let d = gates.get(id);
    if (!d) gates.set(id, d = deferred<unknown>());
    return d;
  };
  const started: string[] = [];
  return {
    started,
    fn: (_ctx: unknown, input: unknown) => {
      const { id } = input as { id: string };
      started.push(id);
      return gate(id).promise;
    },
    release: (id: string) => gate(id).resolve(id),
  };
}

for (const mode of ["jetstream", "core"] as const) {
  natsTest(
    `queue triggers (${mode}) honour concurrency.key over the message payload: a busy key does not block others`,
    async (url) => {
      const node = gatedNode();
      const h = await queueHarness(url, {
        fn: node.fn,
        concurrency: KEYED,
        trigger: mode === "core" ? { stream: undefined, deadLetter: undefined } : {},
      });
      const metrics = new TriggerMetrics();
      // maxConcurrency defaults to maxRunsTotal (3) for a keyed workflow.
      const triggers = await startQueueTriggers(h.workflow, {
        runs: h.manager,
        nc: h.nc,
        metrics,
        fetchExpiresMs: 1_000,
      });
      try {
        const publish = async (body: unknown) => {
          if (mode === "jetstream") await h.publish(body);
          else h.nc.publish(h.trigger.subject, JSON.stringify(body));
        };
        for (let i = 1; i <= 3; i++) await publish({ tenant: "busy", id: `busy-${i}` });
        await publish({ tenant: "k1", id: "k1" });
        await publish({ id: "no-tenant" }); // no key value: the empty key
        // Without the key, busy-1..3 would fill the trigger's 3 slots (2 of them only queued in
        // the run manager) and k1 would stay in the stream until busy-1 ends.
        await waitFor(() => node.started.length === 3, "busy-1, k1 and no-tenant to start");
        assert.deepEqual([...node.started].sort(), ["busy-1", "k1", "no-tenant"]);
        const runs = await h.runs();
        assert.equal(runs.length, 3, "busy-2 and busy-3 wait in the trigger, not as runs");
        // JetStream counts the waiting messages as taken; core NATS keeps them in its backlog.
        assert.equal(triggers.consumers[0]!.inFlight, mode === "jetstream" ? 5 : 3);
        node.release("k1");
        node.release("no-tenant");
        node.release("busy-1");
        await waitFor(() => node.started.length === 4, "busy-2 to start");
        assert.equal(node.started[3], "busy-2");
        node.release("busy-2");
        await waitFor(() => node.started.length === 5, "busy-3 to start");
        node.release("busy-3");
        await waitFor(async () =>
          (await h.runs()).every((r) => r.status === "succeeded") &&
          (await h.runs()).length === 5, "every run to succeed");
        const tenants = (await h.runs()).map((r) => (r.input as { id: string }).id);
        assert.deepEqual(tenants.filter((t) => t.startsWith("busy")), [
          "busy-1",
          "busy-2",
          "busy-3",
        ]);
        if (mode === "jetstream") {
          const labels = { workflow: h.workflow.name, subject: h.trigger.subject };
          await waitFor(
            () => metrics.get("pipedreamer_queue_messages_acked_total", labels) === 5,
            "five acks",
          );
          assert.equal(metrics.get("pipedreamer_queue_messages_naked_total", labels), 0);
        }
      } finally {
        for (const id of ["busy-1", "busy-2", "busy-3", "k1", "no-tenant"]) node.release(id);
        await triggers.drain();
        await h.close();
      }
    },
  );
}

natsTest(
  "a JetStream trigger that stops hands back the messages waiting for their key's turn at once",
  async (url) => {
    const node = gatedNode();
    const h = await queueHarness(url, { fn: node.fn, concurrency: KEYED });
    const labels = { workflow: h.workflow.name, subject: h.trigger.subject };
    const metrics = new TriggerMetrics();
    const options = { runs: h.manager, nc: h.nc, metrics, fetchExpiresMs: 1_000 };
    let triggers = await startQueueTriggers(h.workflow, options);
    try {
      await h.publish({ tenant: "busy", id: "busy-1" });
      await h.publish({ tenant: "busy", id: "busy-2" });
      await waitFor(() => node.started.length === 1, "busy-1 to start");
      await waitFor(() => triggers.consumers[0]!.inFlight === 2, "busy-2 to wait its turn");
      await triggers.stop();
      await waitFor(
        () => metrics.get("pipedreamer_queue_messages_naked_total", labels) === 1,
        "busy-2 to be handed back",
      );
      assert.equal((await h.runs()).length, 1, "busy-2 never became a run here");
      node.release("busy-1");
      await triggers.drain();
      assert.equal(metrics.get("pipedreamer_queue_messages_acked_total", labels), 1);
      // Another start (or replica) takes busy-2.
      triggers = await startQueueTriggers(h.workflow, options);
      await waitFor(() => node.started.length === 2, "busy-2 to start after the restart");
      assert.equal(node.started[1], "busy-2");
      node.release("busy-2");
      await waitFor(
        () => metrics.get("pipedreamer_queue_messages_acked_total", labels) === 2,
        "busy-2's ack",
      );
      assert.equal((await h.consumerInfo()).num_pending, 0);
    } finally {
      for (const id of ["busy-1", "busy-2"]) node.release(id);
      await triggers.drain();
      await h.close();
    }
  },
);
