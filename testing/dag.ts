/**
 * Builds {@link CompiledWorkflow} objects for executor tests without the compiler.
 *
 * @module
 */

import type { CompiledNode, CompiledWorkflow, Edge, ExecutionSettings } from "../engine/mod.ts";

/** Options of {@link dag}. */
export interface DagOptions {
  settings?: Partial<ExecutionSettings>;
  /** Per-node overrides. */
  nodes?: Record<string, Partial<CompiledNode>>;
  /** Id of an onError node (not part of the DAG). */
  onError?: string;
  onErrorNode?: Partial<CompiledNode>;
  inputSchema?: unknown;
  config?: Record<string, unknown>;
}

function node(id: string, overrides: Partial<CompiledNode> | undefined): CompiledNode {
  return {
    id,
    kind: "module",
    path: `/tmp/wf/nodes/${id}.ts`,
    capabilities: { net: [], run: [] },
    timeoutMs: 30_000,
    retries: 0,
    allowFailure: false,
    codeHash: `hash-${id}`,
    ...overrides,
  };
}

/**
 * A workflow from `{ nodeId: [parentIds] }`, in declaration order. Retries default to 0 here
 * (not 1 as in workflow.yaml) so failures are final unless a test asks for retries.
 *
 * @example
 * ```ts
 * const workflow = dag({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] });
 * ```
 */
export function dag(spec: Record<string, string[]>, options: DagOptions = {}): CompiledWorkflow {
  const ids = Object.keys(spec);
  const nodes: Record<string, CompiledNode> = {};
  const parents: Record<string, string[]> = {};
  const children: Record<string, string[]> = {};
  const edges: Edge[] = [];
  for (const id of ids) {
    nodes[id] = node(id, options.nodes?.[id]);
    parents[id] = [...spec[id]!];
    children[id] = [];
  }
  for (const id of ids) {
    for (const parent of spec[id]!) {
      if (!children[parent]) throw new TypeError(`Cannot build test DAG: unknown "${parent}"`);
      children[parent].push(id);
      edges.push({ from: parent, to: id });
    }
  }
  // Kahn's algorithm, stable in declaration order.
  const remaining = new Map(ids.map((id) => [id, parents[id]!.length]));
  const queue = ids.filter((id) => remaining.get(id) === 0);
  const order: string[] = [];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    order.push(id);
    for (const child of children[id]!) {
      const left = remaining.get(child)! - 1;
      remaining.set(child, left);
      if (left === 0) queue.push(child);
    }
  }
  if (order.length !== ids.length) throw new TypeError("Cannot build test DAG: it has a cycle");
  return {
    name: "test-flow",
    version: "1.0.0",
    dir: "/tmp/wf",
    file: "/tmp/wf/workflow.yaml",
    triggers: [{ type: "manual" }],
    services: {},
    nodes,
    order,
    edges,
    parents,
    children,
    roots: ids.filter((id) => parents[id]!.length === 0),
    sinks: ids.filter((id) => children[id]!.length === 0),
    onError: options.onError ? node(options.onError, options.onErrorNode) : undefined,
    inputSchema: options.inputSchema,
    config: options.config ?? {},
    settings: {
      timeoutMs: 30_000,
      retries: 0,
      failFast: true,
      maxParallel: 16,
      backoffMs: 200,
      maxBackoffMs: 30_000,
      ...options.settings,
    },
    codeHash: "hash-workflow",
  };
}
