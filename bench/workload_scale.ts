/**
 * scale: validate+compile (`loadWorkflow`: read, parse, validate, build the DAG) and execute
 * chain and wide (root → N → join) DAGs of 1k, 10k and 50k no-op nodes, sandboxed with and
 * without the SQLite store, to show how time grows with size.
 *
 * @module
 */

import { compileWorkflow, loadWorkflowSource } from "../engine/mod.ts";
import { openPipedreamer } from "./system_pipedreamer.ts";
import { nodeCount } from "./workload_dag.ts";
import { type ProjectSpec, writeProject } from "./_projects.ts";
import { checkResult } from "./_system.ts";
import { fmt, fmtSummary, measure, summarize, type Summary, table } from "./_stats.ts";
import type { BenchContext } from "./_context.ts";

/** One size and shape. */
export interface ScaleRow {
  shape: "chain" | "wide";
  size: number;
  nodes: number;
  /** Read + parse. */
  parseMs: Summary;
  /** Validate + build the DAG. */
  compileMs: Summary;
  /** Both. */
  loadMs: Summary;
  execMs: Summary;
  durableMs: Summary;
}

/** Runs the scale workload. */
export async function runScale(ctx: BenchContext): Promise<ScaleRow[]> {
  const sizes = ctx.quick ? [1000, 10_000] : [1000, 10_000, 50_000];
  const repeat = ctx.quick ? { warmup: 1, reps: 1 } : { warmup: 1, reps: 5 };
  const rows: ScaleRow[] = [];
  for (const shape of ["chain", "wide"] as const) {
    for (const size of sizes) {
      ctx.progress(`scale: ${shape} ${size}`);
      const spec: ProjectSpec = {
        name: `scale-${shape}-${size}`,
        shape: shape === "chain" ? "chain" : "fanout",
        size,
        work: { kind: "noop" },
      };
      const project = await writeProject(ctx.tmpDir, spec);
      const parse: number[] = [];
      const compile: number[] = [];
      const load: number[] = [];
      for (let i = 0; i < repeat.warmup + Math.max(repeat.reps, 5); i++) {
        const t0 = performance.now();
        const source = await loadWorkflowSource(project.dir);
        const t1 = performance.now();
        compileWorkflow(source.parsed, {
          dir: source.dir,
          sources: source.sources,
          workflowText: source.text,
        });
        const t2 = performance.now();
        if (i >= repeat.warmup) {
          parse.push(t1 - t0);
          compile.push(t2 - t1);
          load.push(t2 - t0);
        }
      }
      const source = await loadWorkflowSource(project.dir);
      const workflow = compileWorkflow(source.parsed, {
        dir: source.dir,
        sources: source.sources,
        workflowText: source.text,
      });
      const times: Record<"exec" | "durable", number[]> = { exec: [], durable: [] };
      for (const mode of ["exec", "durable"] as const) {
        const system = await openPipedreamer(project, { mode, dataDir: ctx.tmpDir, workflow });
        try {
          times[mode] = await measure(repeat, async () => {
            checkResult(`pipedreamer ${mode}`, spec.name, await system.run(), project.expected);
          });
        } finally {
          await system.close();
        }
      }
      rows.push({
        shape,
        size,
        nodes: nodeCount(spec),
        parseMs: summarize(parse),
        compileMs: summarize(compile),
        loadMs: summarize(load),
        execMs: summarize(times.exec),
        durableMs: summarize(times.durable),
      });
    }
  }
  ctx.print(
    `\n### scale (no-op nodes; validate+compile ≥ 5 runs, execute ${repeat.reps} runs after ${repeat.warmup} warm-up)\n`,
  );
  ctx.print(table(
    [
      "shape",
      "nodes",
      "read+parse ms",
      "validate+compile ms",
      "total ms",
      "µs/node",
      "exec ms",
      "exec µs/node",
      "durable ms",
      "durable µs/node",
    ],
    rows.map((r) => [
      r.shape,
      String(r.nodes),
      fmtSummary(r.parseMs),
      fmtSummary(r.compileMs),
      fmtSummary(r.loadMs),
      fmt((r.loadMs.median * 1000) / r.nodes),
      fmtSummary(r.execMs),
      fmt((r.execMs.median * 1000) / r.nodes),
      fmtSummary(r.durableMs),
      fmt((r.durableMs.median * 1000) / r.nodes),
    ]),
  ));
  return rows;
}
