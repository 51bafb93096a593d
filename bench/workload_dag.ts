/**
 * The DAG workloads (chain-40-fibo10, chain-10-fibo33, chain-1000-noop, fanout-1000-noop), each
 * run by every system side by side: pure compute, the physical limit, p-graph, Pipedreamer
 * in-process / exec / durable, and BullMQ flows.
 *
 * Per-node overhead = (total − pure compute) / nodes, per repetition.
 *
 * @module
 */

import { measureBullmq, prepareBullmq } from "./system_bullmq.ts";
import { openPGraph } from "./system_pgraph.ts";
import { openPhysical, openPureCompute } from "./system_physical.ts";
import { openPipedreamer, type PipedreamerMode } from "./system_pipedreamer.ts";
import { type Project, type ProjectSpec, writeProject } from "./_projects.ts";
import { startRedis } from "./_redis.ts";
import { checkResult, type DagSystem } from "./_system.ts";
import { fmt, fmtSummary, measure, type Repeat, summarize, type Summary, table } from "./_stats.ts";
import type { BenchContext } from "./_context.ts";

/** The DAG workloads of issue 6. */
export const DAG_WORKLOADS: ProjectSpec[] = [
  { name: "chain-40-fibo10", shape: "chain", size: 40, work: { kind: "fibo", n: 10 } },
  { name: "chain-10-fibo33", shape: "chain", size: 10, work: { kind: "fibo", n: 33 } },
  { name: "chain-1000-noop", shape: "chain", size: 1000, work: { kind: "noop" } },
  { name: "fanout-1000-noop", shape: "fanout", size: 1000, work: { kind: "noop" } },
];

/** One system's figures on one workload. */
export interface DagRow {
  workload: string;
  system: string;
  nodes: number;
  totalMs: Summary;
  /** Per-node overhead in µs. */
  overheadUs: Summary;
  /** Median total / median physical total. */
  vsPhysical: number;
  skipped?: string;
}

/** Number of nodes a project executes. */
export function nodeCount(spec: ProjectSpec): number {
  return spec.shape === "chain" ? spec.size : spec.size + 2;
}

const DEFAULT_MAX_PARALLEL = 16;

function rowOf(
  project: Project,
  system: string,
  samples: number[],
  pureMs: number,
  physicalMs: number,
): DagRow {
  const nodes = nodeCount(project.spec);
  const totalMs = summarize(samples);
  return {
    workload: project.spec.name,
    system,
    nodes,
    totalMs,
    overheadUs: summarize(samples.map((ms) => ((ms - pureMs) * 1000) / nodes)),
    vsPhysical: totalMs.median / physicalMs,
  };
}

async function timeSystem(
  name: string,
  project: Project,
  repeat: Repeat,
  open: () => Promise<DagSystem>,
): Promise<number[]> {
  const system = await open();
  try {
    return await measure(repeat, async () => {
      checkResult(name, project.spec.name, await system.run(), project.expected);
    });
  } finally {
    await system.close();
  }
}

/** Runs the DAG workloads selected by `ctx` and prints one table per workload. */
export async function runDagWorkloads(ctx: BenchContext, names: string[]): Promise<DagRow[]> {
  const rows: DagRow[] = [];
  const specs = DAG_WORKLOADS.filter((w) => names.includes(w.name));
  if (specs.length === 0) return rows;
  const bullmq = await prepareBullmq();
  const redis = "dir" in bullmq ? await startRedis() : undefined;
  const bullmqSkip = "skipped" in bullmq
    ? bullmq.skipped
    : redis === undefined
    ? "redis-server not installed (apt-get install redis-server)"
    : undefined;
  try {
    for (const spec of specs) {
      const project = await writeProject(ctx.tmpDir, spec);
      const repeat = ctx.repeat;
      const pure = summarize(
        await timeSystem("pure compute", project, repeat, () => openPureCompute(project)),
      );
      const physicalSamples = await timeSystem(
        "physical",
        project,
        repeat,
        () => openPhysical(project),
      );
      const physicalMs = summarize(physicalSamples).median;
      const local: DagRow[] = [
        rowOf(project, "pure compute (no await)", [pure.median], pure.median, physicalMs),
        rowOf(
          project,
          "physical limit (awaited, 1 process)",
          physicalSamples,
          pure.median,
          physicalMs,
        ),
      ];
      local[0]!.totalMs = pure;
      const pgraph = await timeSystem(
        "p-graph",
        project,
        repeat,
        () => openPGraph(project, DEFAULT_MAX_PARALLEL),
      );
      local.push(rowOf(project, "p-graph 2.0.0 (in-process)", pgraph, pure.median, physicalMs));
      const modes: [PipedreamerMode, string][] = [
        ["in-process", "pipedreamer in-process runner (no sandbox)"],
        ["exec-worker", "pipedreamer exec, worker sandbox (before #12)"],
        ["exec", "pipedreamer exec (sandbox processes, no store)"],
        ["durable-worker", "pipedreamer durable, worker sandbox (before #12)"],
        ["durable", "pipedreamer durable (sandbox processes + SQLite)"],
        [
          "durable-pipelined-worker",
          "pipedreamer durable, pipelineHooks, worker sandbox (before #12)",
        ],
        ["durable-pipelined", "pipedreamer durable, pipelineHooks (sandbox processes)"],
      ];
      for (const [mode, label] of modes) {
        const samples = await timeSystem(
          `pipedreamer ${mode}`,
          project,
          repeat,
          () => openPipedreamer(project, { mode, dataDir: ctx.tmpDir }),
        );
        local.push(rowOf(project, label, samples, pure.median, physicalMs));
      }
      if (bullmqSkip === undefined && "dir" in bullmq && redis) {
        const measured = await measureBullmq(project, {
          redis,
          depsDir: bullmq.dir,
          concurrency: DEFAULT_MAX_PARALLEL,
          repeat,
        });
        checkResult("BullMQ", spec.name, measured.result, project.expected);
        local.push(
          rowOf(
            project,
            "BullMQ 6.7.0 flows (Node.js + Redis)",
            measured.samples,
            measured.pureMs,
            physicalMs,
          ),
        );
      } else {
        local.push({
          workload: spec.name,
          system: "BullMQ 6.7.0 flows (Node.js + Redis)",
          nodes: nodeCount(spec),
          totalMs: summarize([]),
          overheadUs: summarize([]),
          vsPhysical: NaN,
          skipped: bullmqSkip,
        });
      }
      ctx.print(
        `\n### ${spec.name} (${
          nodeCount(spec)
        } nodes; ${repeat.reps} runs after ${repeat.warmup} warm-up)\n`,
      );
      ctx.print(dagTable(local));
      rows.push(...local);
    }
  } finally {
    await redis?.stop();
  }
  return rows;
}

/** The table of one workload. */
export function dagTable(rows: DagRow[]): string {
  return table(
    ["system", "total ms, median (min–max)", "overhead µs/node, median (min–max)", "× physical"],
    rows.map((r) =>
      r.skipped
        ? [r.system, `skipped: ${r.skipped}`, "", ""]
        : [r.system, fmtSummary(r.totalMs), fmtSummary(r.overheadUs), fmt(r.vsPhysical, 2)]
    ),
  );
}
