/**
 * Pipedreamer's own paths, on one loaded workflow:
 * - `in-process`: the executor with the unsandboxed in-process runner (executor cost alone);
 * - `exec`: the executor with `createRunner()` (sandbox processes, no store), as `exec` runs;
 * - `durable`: the same plus a SQLite store that persists the run and every node transition
 *   as it happens (the executor's hooks, each awaited before the next), as `serve` does;
 * - `durable-pipelined`: the same with `pipelineHooks`, so a run's transitions share the store's
 *   per-turn commits;
 * - `*-worker`: the same with the sandbox of before issue 12 (`createRunner({ sandbox: "worker" })`,
 *   Deno workers inside the engine's process, not contained), for the before/after comparison.
 *
 * @module
 */

import { join } from "node:path";
import {
  type CompiledWorkflow,
  createInProcessRunner,
  createRunner,
  type ExecuteHooks,
  executeRun,
  loadWorkflow,
  type NodeRunner,
  type RunRecord,
} from "../engine/mod.ts";
import { SqliteStore } from "../store/mod.ts";
import type { Project } from "./_projects.ts";
import type { DagSystem } from "./_system.ts";

/** Which Pipedreamer path. */
export type PipedreamerMode =
  | "in-process"
  | "exec"
  | "durable"
  | "durable-pipelined"
  | "exec-worker"
  | "durable-worker"
  | "durable-pipelined-worker";

/** Options of {@link openPipedreamer}. */
export interface PipedreamerOptions {
  mode: PipedreamerMode;
  /** Where the durable store's database goes. */
  dataDir: string;
  /** An already loaded workflow. @default loadWorkflow(project.dir) */
  workflow?: CompiledWorkflow;
}

/** Hooks that persist every transition of a run in `store` (what `serve` writes). */
export function storeHooks(store: SqliteStore): ExecuteHooks {
  return {
    async onRunUpdate(record) {
      const finished = record.status !== "running" && record.status !== "queued";
      await store.updateRun(
        record.runId,
        finished
          ? {
            status: record.status,
            result: record.result,
            error: record.error,
            startedAt: record.startedAt,
            finishedAt: record.finishedAt,
            durationMs: record.durationMs,
          }
          : { status: record.status, startedAt: record.startedAt },
      );
    },
    async onNodeUpdate(runId, nodeId, node) {
      await store.updateNode(runId, nodeId, node);
    },
    async onLog(line) {
      await store.appendLogs(line.runId, [line]);
    },
  };
}

/** Runs `project` through Pipedreamer's executor in the given mode. */
export async function openPipedreamer(
  project: Project,
  options: PipedreamerOptions,
): Promise<DagSystem> {
  const workflow = options.workflow ?? await loadWorkflow(project.dir);
  const runner: NodeRunner = options.mode === "in-process"
    ? createInProcessRunner()
    : createRunner({ sandbox: options.mode.endsWith("-worker") ? "worker" : "process" });
  const durable = options.mode.startsWith("durable");
  const pipelineHooks = options.mode.startsWith("durable-pipelined");
  const store = durable
    ? await SqliteStore.open(join(options.dataDir, `${project.spec.name}-${options.mode}.db`))
    : undefined;
  const hooks = store ? storeHooks(store) : undefined;
  return {
    async run() {
      let record: RunRecord;
      if (store) {
        const runId = crypto.randomUUID();
        await store.createRun({
          runId,
          workflow: workflow.name,
          version: workflow.version,
          status: "queued",
          input: undefined,
          nodes: {},
        });
        record = await executeRun(workflow, { runner, runId, hooks, pipelineHooks });
      } else {
        record = await executeRun(workflow, { runner });
      }
      if (record.status !== "succeeded") {
        throw new Error(
          `Cannot benchmark "${project.spec.name}": the run ${record.status}: ${
            JSON.stringify(record.error)
          }`,
        );
      }
      return record.result;
    },
    async close() {
      await runner.close();
      await store?.close();
    },
  };
}
