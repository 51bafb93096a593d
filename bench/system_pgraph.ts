/**
 * p-graph (npm, Microsoft): an in-process promise DAG with a concurrency limit. Each node
 * awaits the same node function with its parents' outputs (p-graph itself passes no data, so
 * the outputs live in a map per run).
 *
 * @module
 */

import { PGraph } from "p-graph";
import { join } from "node:path";
import { toFileUrl } from "./_paths.ts";
import { type Project, shapeOf } from "./_projects.ts";
import type { DagSystem } from "./_system.ts";

type NodeFn = (ctx: unknown, input: unknown) => unknown;

/** The project as a p-graph, run with `concurrency` (the engine's `maxParallel`). */
export async function openPGraph(project: Project, concurrency: number): Promise<DagSystem> {
  const load = async (file: string) =>
    (await import(toFileUrl(join(project.dir, "nodes", file))) as { default: NodeFn }).default;
  const step = await load("step.ts");
  const joinFn = project.spec.shape === "fanout" ? await load("join.ts") : step;
  const { ids, edges } = shapeOf(project.spec);
  const parents = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const [from, to] of edges) parents.get(to)!.push(from);
  const sink = ids[ids.length - 1]!;
  const nodes = Object.fromEntries(ids.map((id) => [id, {}]));
  const graph = new PGraph(nodes, edges);
  const ctx = {};
  return {
    async run() {
      const outputs = new Map<string, unknown>();
      await graph.run({
        concurrency,
        run: async (id: string) => {
          const from = parents.get(id)!;
          let input: unknown;
          if (from.length === 1) input = outputs.get(from[0]!);
          else if (from.length > 1) {
            const record: Record<string, unknown> = {};
            for (const p of from) record[p] = outputs.get(p);
            input = record;
          }
          const fn = id === "join" && project.spec.shape === "fanout" ? joinFn : step;
          outputs.set(id, await fn(ctx, input));
        },
      });
      return outputs.get(sink);
    },
    close: () => Promise.resolve(),
  };
}
