/**
 * A run manager wired for tests: a fake clock, an in-memory SQLite store on that clock, the
 * executor's test runner with per-node gates, and a DAG built without the compiler.
 *
 * @module
 */

import type {
  CompiledWorkflow,
  ConcurrencySettings,
  RetentionSettings,
  RunRecord,
} from "../../engine/mod.ts";
import {
  dag,
  type DagOptions,
  deferred,
  FakeClock,
  type TestFn,
  type TestRunner,
  testRunner,
  waitFor,
} from "../../testing/mod.ts";
import { type RunStore, SqliteStore } from "../../store/mod.ts";
import { RunManager, type RunManagerOptions } from "../run_manager.ts";

export { deferred, waitFor };

/** Options of {@link harness}. */
export interface HarnessOptions {
  /** `{ node: [parents] }`. @default { a: [], b: ["a"] } */
  spec?: Record<string, string[]>;
  fns?: Record<string, TestFn>;
  dag?: DagOptions;
  concurrency?: ConcurrencySettings;
  retention?: RetentionSettings;
  /** Shared with another harness (two replicas). */
  store?: RunStore;
  clock?: FakeClock;
  manager?: Partial<RunManagerOptions>;
}

/** What {@link harness} returns. */
export interface Harness {
  clock: FakeClock;
  store: RunStore;
  runner: TestRunner;
  workflow: CompiledWorkflow;
  manager: RunManager;
  /** Every error reported to `onError`. */
  errors: unknown[];
  /** Closes the manager, then the store when the harness opened it. */
  close(): Promise<void>;
}

/** A workflow for manager tests: no node timeouts (the fake clock moves in big steps). */
export function testWorkflow(options: HarnessOptions = {}): CompiledWorkflow {
  const spec = options.spec ?? { a: [], b: ["a"] };
  const nodes: DagOptions["nodes"] = {};
  for (const id of Object.keys(spec)) nodes[id] = { timeoutMs: 0, ...options.dag?.nodes?.[id] };
  const workflow = dag(spec, { ...options.dag, nodes });
  if (options.concurrency) workflow.concurrency = options.concurrency;
  if (options.retention) workflow.retention = options.retention;
  return workflow;
}

/** See the module docs. */
export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new FakeClock();
  const ownStore = options.store === undefined;
  const store = options.store ?? await SqliteStore.open(":memory:", { now: () => clock.now() });
  const runner = testRunner(options.fns ?? {});
  const workflow = testWorkflow(options);
  const errors: unknown[] = [];
  const manager = await RunManager.create({
    workflow,
    store,
    runner,
    clock,
    onError: (error) => errors.push(error),
    ...options.manager,
  });
  return {
    clock,
    store,
    runner,
    workflow,
    manager,
    errors,
    async close() {
      await manager.close();
      if (ownStore) await store.close();
    },
  };
}

/** Node functions that block until the test opens their gate: `gates.open(runId, "a")`. */
export function gated(ids: string[]) {
  const gates = new Map<string, ReturnType<typeof deferred<unknown>>>();
  const gate = (key: string) => {
    let d = gates.get(key);
    if (!d) gates.set(key, d = deferred<unknown>());
    return d;
  };
  /** `runId:node` of every attempt started, in order. */
  const started: string[] = [];
  const fns: Record<string, TestFn> = {};
  for (const id of ids) {
    fns[id] = (ctx) => {
      started.push(`${ctx.runId}:${id}`);
      return gate(`${ctx.runId}:${id}`).promise;
    };
  }
  return {
    fns,
    started,
    open(runId: string, id: string, value: unknown = id) {
      gate(`${runId}:${id}`).resolve(value);
    },
  };
}

/** Waits until the stored run has `status`. */
export async function untilStatus(
  store: RunStore,
  runId: string,
  status: RunRecord["status"],
): Promise<RunRecord> {
  let record: RunRecord | undefined;
  for (let turn = 0; turn < 10_000; turn++) {
    record = await store.getRun(runId);
    if (record?.status === status) return record;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error(`Cannot wait any longer for run "${runId}" to be ${status}: ${record?.status}`);
}
