/**
 * Generated workflow projects of the benchmarks, written to a temp dir (never committed): a
 * chain of N nodes or a fan-out (root → N parallel → join), every node running the same small
 * module, so all nodes share one sandbox worker (same capabilities).
 *
 * Node functions pass a number on, so every system's result can be checked: a chain of N nodes
 * ends with N, a fan-out of width N with N.
 *
 * @module
 */

import { join } from "node:path";

/** What each node computes. */
export type Work = { kind: "noop" } | { kind: "fibo"; n: number };

/** A workflow to generate. */
export interface ProjectSpec {
  name: string;
  shape: "chain" | "fanout";
  /** Chain: number of nodes. Fan-out: number of parallel nodes (plus a root and a join). */
  size: number;
  work: Work;
  /** `config.maxParallel`. @default the engine default */
  maxParallel?: number;
  /** `concurrency:` of dev/serve. @default the engine default */
  concurrency?: { maxRuns: number; queueLimit: number };
}

/** A generated project. */
export interface Project {
  spec: ProjectSpec;
  dir: string;
  /** Node ids in topological order. */
  ids: string[];
  /** The expected run result. */
  expected: number;
}

/** Recursive Fibonacci, the Windmill benchmark's unit of work. */
export function fibo(n: number): number {
  return n < 2 ? n : fibo(n - 1) + fibo(n - 2);
}

/** Source of a node module: `input + 1` after the work (the root gets 0). */
export function nodeSource(work: Work): string {
  const body = work.kind === "fibo"
    ? `const F = fibo(${work.n});\n  return (typeof input === "number" ? input : 0) + (F >= 0 ? 1 : 0);`
    : `return (typeof input === "number" ? input : 0) + 1;`;
  return `function fibo(n: number): number {
  return n < 2 ? n : fibo(n - 1) + fibo(n - 2);
}

export default function run(_ctx: unknown, input: unknown): number {
  ${body}
}
`;
}

/** The same node as plain JavaScript (for systems that run on Node.js). */
export function nodeSourceJs(work: Work): string {
  return nodeSource(work).replaceAll(/: (number|unknown)/g, "");
}

/** Source of the fan-out's join: the number of parents it heard from. */
export const JOIN_SOURCE = `export default function run(_ctx: unknown, input: unknown): number {
  return Object.keys(input as Record<string, unknown>).length;
}
`;

/** Node id `n000042` style, sortable. */
export function nodeId(i: number, width: number): string {
  return `n${String(i).padStart(width, "0")}`;
}

/** The ids, edges and expected result of a shape. */
export function shapeOf(spec: ProjectSpec): {
  ids: string[];
  edges: [string, string][];
  expected: number;
} {
  const width = String(spec.size + 1).length;
  if (spec.shape === "chain") {
    const ids = Array.from({ length: spec.size }, (_, i) => nodeId(i + 1, width));
    const edges = ids.slice(1).map((id, i) => [ids[i]!, id] as [string, string]);
    return { ids, edges, expected: spec.size };
  }
  const middle = Array.from({ length: spec.size }, (_, i) => nodeId(i + 1, width));
  const edges: [string, string][] = [];
  for (const id of middle) edges.push(["root", id], [id, "join"]);
  return { ids: ["root", ...middle, "join"], edges, expected: spec.size };
}

/** The workflow.yaml text of `spec`. */
export function workflowYaml(spec: ProjectSpec): string {
  const { ids, edges } = shapeOf(spec);
  const lines = [`name: ${spec.name}`, `version: "1.0.0"`, "nodes:"];
  for (const id of ids) {
    const path = id === "join" && spec.shape === "fanout" ? "./nodes/join.ts" : "./nodes/step.ts";
    lines.push(`  ${id}: { path: ${path} }`);
  }
  lines.push(edges.length > 0 ? "edges:" : "edges: []");
  for (const [from, to] of edges) lines.push(`  - { from: ${from}, to: ${to} }`);
  const config: string[] = [];
  if (spec.maxParallel !== undefined) config.push(`maxParallel: ${spec.maxParallel}`);
  if (config.length > 0) lines.push(`config: { ${config.join(", ")} }`);
  if (spec.concurrency) {
    const { maxRuns, queueLimit } = spec.concurrency;
    lines.push(`concurrency: { maxRuns: ${maxRuns}, queueLimit: ${queueLimit} }`);
  }
  return lines.join("\n") + "\n";
}

/** Writes the project of `spec` under `root`. */
export async function writeProject(root: string, spec: ProjectSpec): Promise<Project> {
  const dir = join(root, spec.name);
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  await Deno.writeTextFile(join(dir, "workflow.yaml"), workflowYaml(spec));
  await Deno.writeTextFile(join(dir, "nodes", "step.ts"), nodeSource(spec.work));
  await Deno.writeTextFile(join(dir, "nodes", "step.mjs"), nodeSourceJs(spec.work));
  if (spec.shape === "fanout") {
    await Deno.writeTextFile(join(dir, "nodes", "join.ts"), JOIN_SOURCE);
    await Deno.writeTextFile(
      join(dir, "nodes", "join.mjs"),
      JOIN_SOURCE.replaceAll(/: (number|unknown)/g, "").replace(" as Record<string, unknown>", ""),
    );
  }
  const { ids, expected } = shapeOf(spec);
  return { spec, dir, ids, expected };
}

/**
 * A workflow of `count` parallel nodes, each with its own `net` capability, so each gets its
 * own sandbox worker (isolate).
 */
export async function writeIsolatesProject(root: string, count: number): Promise<Project> {
  const spec: ProjectSpec = {
    name: `isolates-${count}`,
    shape: "chain",
    size: count,
    work: { kind: "noop" },
  };
  const dir = join(root, spec.name);
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  const ids = Array.from({ length: count }, (_, i) => nodeId(i + 1, String(count).length));
  const lines = [`name: ${spec.name}`, `version: "1.0.0"`, "nodes:"];
  ids.forEach((id, i) => {
    lines.push(`  ${id}: { path: ./nodes/step.ts, capabilities: { net: "h${i + 1}.invalid" } }`);
  });
  lines.push("edges: []");
  await Deno.writeTextFile(join(dir, "workflow.yaml"), lines.join("\n") + "\n");
  await Deno.writeTextFile(join(dir, "nodes", "step.ts"), nodeSource({ kind: "noop" }));
  return { spec, dir, ids, expected: 1 };
}
