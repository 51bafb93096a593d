/**
 * Queue trigger tests against a real nats-server: the real RunManager (in-memory SQLite store,
 * nodes as plain functions), a NATS connection, and helpers to publish and inspect.
 *
 * @module
 */

import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import {
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type {
  CompiledWorkflow,
  ConcurrencySettings,
  QueueTrigger,
  RunRecord,
} from "../../engine/mod.ts";
import { dag, type TestFn, type TestRunner, testRunner } from "../../testing/mod.ts";
import { type RunStore, SqliteStore } from "../../store/mod.ts";
import { RunManager } from "../../server/mod.ts";
import { connectNats } from "../connect_nats.ts";

export { deferred, waitFor } from "../../testing/mod.ts";

let streams = 0;

/** A unique stream name and subject for one test. */
export function uniqueNames(): { stream: string; subject: string; deadLetter: string } {
  const n = ++streams;
  return { stream: `S${n}`, subject: `t${n}.events`, deadLetter: `t${n}.events.dlq` };
}

/** Options of {@link queueHarness}. */
export interface QueueHarnessOptions {
  /** One node `a`: its function. @default returns its input */
  fn?: TestFn;
  inputSchema?: unknown;
  /** Shared with another harness (two replicas). */
  store?: RunStore;
  /** A workflow built by another harness (two replicas of one workflow). */
  workflow?: CompiledWorkflow;
  trigger?: Partial<QueueTrigger>;
  /** The workflow's concurrency. @default 100 running, 100 waiting */
  concurrency?: ConcurrencySettings;
}

/** What {@link queueHarness} returns. */
export interface QueueHarness {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  manager: RunManager;
  store: RunStore;
  runner: TestRunner;
  workflow: CompiledWorkflow;
  trigger: QueueTrigger;
  /** Publishes to the trigger's subject: bytes and strings as they are, anything else as JSON. */
  publish(data: unknown, headers?: Record<string, string>): Promise<number>;
  /** Every run of the workflow in the store, oldest first. */
  runs(): Promise<RunRecord[]>;
  consumerInfo(): Promise<ConsumerInfo>;
  close(): Promise<void>;
}

/** See the module docs. */
export async function queueHarness(
  url: string,
  options: QueueHarnessOptions = {},
): Promise<QueueHarness> {
  const trigger: QueueTrigger = options.workflow
    ? options.workflow.triggers[0] as QueueTrigger
    : { type: "queue", ...uniqueNames(), durable: "test-flow", ...options.trigger };
  const workflow = options.workflow ?? dag({ a: [] }, {
    nodes: { a: { timeoutMs: 0 } },
    inputSchema: options.inputSchema,
  });
  workflow.triggers = [trigger];
  workflow.concurrency = options.concurrency ??
    { maxRuns: 100, queueLimit: 100, strategy: "append", startDelayMs: 0 };
  const ownStore = options.store === undefined;
  const store = options.store ?? await SqliteStore.open(":memory:");
  const runner = testRunner({ a: options.fn ?? ((_ctx, input) => input) });
  const manager = await RunManager.create({ workflow, store, runner, leaseMs: 60_000 });
  const nc = await connectNats(url);
  const jsm = await jetstreamManager(nc);
  const js = jsm.jetstream();
  return {
    nc,
    jsm,
    js,
    manager,
    store,
    runner,
    workflow,
    trigger,
    async publish(data, headers) {
      const h = natsHeaders();
      for (const [key, value] of Object.entries(headers ?? {})) h.set(key, value);
      const body = data instanceof Uint8Array || typeof data === "string"
        ? data
        : JSON.stringify(data);
      const ack = await js.publish(trigger.subject, body, { headers: h });
      return ack.seq;
    },
    async runs() {
      const page = await store.listRuns({ workflow: workflow.name, limit: 1000 });
      return page.runs.reverse().map((summary) => ({ ...summary, nodes: {} }));
    },
    consumerInfo: () => jsm.consumers.info(trigger.stream!, trigger.durable),
    async close() {
      await manager.close();
      await nc.close();
      if (ownStore) await store.close();
    },
  };
}
