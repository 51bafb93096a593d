/**
 * map-wait: the cost of the durable constructs of SPEC §9–10.
 * - map-overhead: a map node over N no-op elements (1k, 10k), per element, in-process (the
 *   executor alone), sandboxed in memory (`exec`) and sandboxed with the SQLite store keeping
 *   every element's record (what `serve` does), plus the store's growth per element and the
 *   size of the run record (elements are stored apart from it);
 * - wake: a run parked at a wait node, from `RunManager.signal()` to the run's end (SQLite):
 *   the event delivery, the resume (claim, reload of the record) and the last node.
 *
 * @module
 */

import { join } from "node:path";
import {
  type CompiledWorkflow,
  createInProcessRunner,
  createRunner,
  executeRun,
  loadWorkflow,
  type NodeRunner,
} from "../engine/mod.ts";
import { SqliteStore } from "../store/mod.ts";
import { RunManager } from "../server/mod.ts";
import { storeHooks } from "./system_pipedreamer.ts";
import { fmt, fmtSummary, measure, summarize, type Summary, table } from "./_stats.ts";
import type { BenchContext } from "./_context.ts";

/** One map size and mode. */
export interface MapRow {
  elements: number;
  mode: "in-process" | "exec" | "durable";
  runMs: Summary;
  /** Median run time per element, in microseconds. */
  perElementUs: number;
  /** durable only: database growth per element, and the stored run record's JSON size. */
  storeBytesPerElement?: number;
  recordBytes?: number;
}

/** The wake figures. */
export interface WakeRow {
  /** signal() → run succeeded. */
  wakeMs: Summary;
}

const NOOP = "export default (_ctx, input) => input;\n";

/** Writes `<root>/<name>`: workflow.yaml (`name`, `version`, then `body`) and `nodes/<file>`s. */
async function writeProject(
  root: string,
  project: { name: string; body: string; nodes: Record<string, string> },
): Promise<string> {
  const dir = join(root, project.name);
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    `name: ${project.name}\nversion: 1.0.0\n${project.body}`,
  );
  for (const [file, source] of Object.entries(project.nodes)) {
    await Deno.writeTextFile(join(dir, "nodes", file), source);
  }
  return dir;
}

function writeMapProject(root: string): Promise<string> {
  return writeProject(root, {
    name: "durable-map-bench",
    body: `nodes:
  list: { path: ./nodes/list.ts }
  each: { path: ./nodes/noop.ts, map: { over: ".", concurrency: 16 } }
edges: [{ from: list, to: each }]
config: { retries: 0 }
`,
    nodes: {
      "list.ts": "export default (_ctx, input) => Array.from({ length: input.n }, (_, i) => i);\n",
      "noop.ts": NOOP,
    },
  });
}

function writeWaitProject(root: string): Promise<string> {
  return writeProject(root, {
    name: "durable-wait-bench",
    body: `nodes:
  approve: { wait: { event: go } }
  post: { path: ./nodes/noop.ts }
edges: [{ from: approve, to: post }]
concurrency: { maxRuns: 100, queueLimit: 1000 }
`,
    nodes: { "noop.ts": NOOP },
  });
}

async function fileSize(path: string): Promise<number> {
  let total = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      total += (await Deno.stat(path + suffix)).size;
    } catch {
      // No WAL yet.
    }
  }
  return total;
}

async function mapRows(ctx: BenchContext, workflow: CompiledWorkflow): Promise<MapRow[]> {
  const sizes = ctx.quick ? [1000] : [1000, 10_000];
  const repeat = ctx.quick ? { warmup: 1, reps: 2, minMs: 0 } : { warmup: 1, reps: 5, minMs: 0 };
  const rows: MapRow[] = [];
  for (const elements of sizes) {
    for (const mode of ["in-process", "exec", "durable"] as const) {
      ctx.progress(`map-wait: map ${elements} ${mode}`);
      const runner: NodeRunner = mode === "in-process" ? createInProcessRunner() : createRunner();
      const path = join(ctx.tmpDir, `map-${elements}-${mode}.db`);
      const store = mode === "durable" ? await SqliteStore.open(path) : undefined;
      let lastRunId = "";
      const sizes: number[] = [];
      try {
        const samples = await measure(repeat, async () => {
          const runId = crypto.randomUUID();
          const input = { n: elements };
          if (store) {
            await store.createRun({
              runId,
              workflow: workflow.name,
              version: workflow.version,
              status: "queued",
              input,
              nodes: {},
            });
          }
          const before = store ? await fileSize(path) : 0;
          const record = await executeRun(workflow, {
            runner,
            runId,
            input,
            ...(store
              ? { durable: store, park: true, hooks: storeHooks(store), pipelineHooks: true }
              : {}),
          });
          if (record.status !== "succeeded" || (record.result as number[]).length !== elements) {
            throw new Error(`Cannot benchmark the map: the run ${record.status}`);
          }
          if (store) {
            await store.getRun(runId); // commits what is queued
            sizes.push(await fileSize(path) - before);
          }
          lastRunId = runId;
        });
        const runMs = summarize(samples);
        const row: MapRow = {
          elements,
          mode,
          runMs,
          perElementUs: runMs.median * 1000 / elements,
        };
        if (store) {
          row.storeBytesPerElement = Math.max(...sizes) / elements;
          row.recordBytes = JSON.stringify(await store.getRun(lastRunId)).length;
        }
        rows.push(row);
      } finally {
        await runner.close();
        await store?.close();
      }
    }
  }
  return rows;
}

async function wakeRow(ctx: BenchContext, workflow: CompiledWorkflow): Promise<WakeRow> {
  const reps = ctx.quick ? 10 : 50;
  const store = await SqliteStore.open(join(ctx.tmpDir, "wake.db"));
  const manager = await RunManager.create({ workflow, store, owner: "bench" });
  try {
    await manager.recover();
    const parkedRun = async () => {
      const { runId } = await manager.submit({});
      for (;;) {
        const record = await store.getRun(runId);
        if (record?.status === "waiting") return runId;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    const wake: number[] = [];
    for (let i = 0; i < reps + 3; i++) {
      ctx.progress(`map-wait: wake ${i + 1}/${reps + 3}`);
      const runId = await parkedRun();
      const t0 = performance.now();
      await manager.signal(runId, "go", { i });
      const record = await manager.wait(runId);
      const t1 = performance.now();
      if (record.status !== "succeeded") throw new Error(`Cannot wake run: ${record.status}`);
      if (i >= 3) wake.push(t1 - t0);
    }
    return { wakeMs: summarize(wake) };
  } finally {
    await manager.close();
    await store.close();
  }
}

/** Runs the map-wait workload. */
export async function runMapWait(ctx: BenchContext): Promise<{ map: MapRow[]; wake: WakeRow }> {
  const map = await mapRows(ctx, await loadWorkflow(await writeMapProject(ctx.tmpDir)));
  ctx.print("\n### map-wait: map node overhead (no-op elements, concurrency 16)\n");
  ctx.print(table(
    [
      "elements",
      "mode",
      "run ms (median, p10–p90)",
      "µs per element",
      "store B/element",
      "run record B",
    ],
    map.map((r) => [
      String(r.elements),
      r.mode,
      fmtSummary(r.runMs),
      fmt(r.perElementUs, 1),
      r.storeBytesPerElement === undefined ? "-" : fmt(r.storeBytesPerElement, 0),
      r.recordBytes === undefined ? "-" : String(r.recordBytes),
    ]),
  ));
  const wake = await wakeRow(ctx, await loadWorkflow(await writeWaitProject(ctx.tmpDir)));
  ctx.print("\n### map-wait: waking a parked run (serve's RunManager + SQLite)\n");
  ctx.print(table(["path", "ms (median, p10–p90)"], [
    ["signal() → run succeeded (resume, wait node, post)", fmtSummary(wake.wakeMs)],
  ]));
  return { map, wake };
}
