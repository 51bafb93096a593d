/**
 * `describeWorkflow()`: what the dashboard shows about a workflow (GET /api/workflow): its
 * nodes with their capabilities and limits, edges, triggers, version, code hash, input schema
 * and the graph layout. Absolute paths of the host and the `config:` map stay on the server.
 *
 * @module
 */

import { relative } from "node:path";
import type {
  CompiledNode,
  CompiledWorkflow,
  ConcurrencySettings,
  Edge,
  NodeKind,
  Trigger,
} from "../engine/mod.ts";
import { type GraphLayout, layoutGraph } from "./layout_graph.ts";

/** One node as the dashboard shows it. */
export interface NodeInfo {
  id: string;
  kind: NodeKind;
  /** Module path relative to the workflow directory (kind "module"). */
  file?: string;
  /** argv of a subprocess node (kind "command"). */
  command?: string[];
  capabilities: { net: string[]; run: string[]; k8s: boolean; secrets?: string[] };
  /** Heap limit of a module node's sandbox, in MiB. */
  memoryMiB?: number;
  /** `run`: a fresh sandbox per attempt. */
  isolation?: "run";
  timeoutMs: number;
  retries: number;
  allowFailure: boolean;
  cacheMs?: number;
  codeHash: string;
  parents: string[];
  children: string[];
  /** The workflow's onError node (not part of the DAG). */
  onError?: true;
}

/** The body of GET /api/workflow. */
export interface WorkflowInfo {
  name: string;
  version: string;
  description?: string;
  codeHash: string;
  triggers: Trigger[];
  /** DAG nodes in topological order, then the onError node. */
  nodes: NodeInfo[];
  edges: Edge[];
  roots: string[];
  sinks: string[];
  onError?: string;
  inputSchema?: unknown;
  concurrency?: ConcurrencySettings;
  layout: GraphLayout;
}

const cache = new WeakMap<CompiledWorkflow, WorkflowInfo>();

function nodeInfo(workflow: CompiledWorkflow, node: CompiledNode, onError: boolean): NodeInfo {
  const info: NodeInfo = {
    id: node.id,
    kind: node.kind,
    capabilities: {
      net: [...node.capabilities.net],
      run: [...node.capabilities.run],
      k8s: node.capabilities.k8s !== undefined,
      secrets: [...(node.capabilities.secrets ?? [])],
    },
    timeoutMs: node.timeoutMs,
    retries: node.retries,
    allowFailure: node.allowFailure,
    codeHash: node.codeHash,
    parents: [...(workflow.parents[node.id] ?? [])],
    children: [...(workflow.children[node.id] ?? [])],
  };
  if (node.path !== undefined) info.file = relative(workflow.dir, node.path);
  if (node.command !== undefined) info.command = [...node.command];
  if (node.cacheMs !== undefined) info.cacheMs = node.cacheMs;
  if (node.kind === "module") info.memoryMiB = node.memoryMiB ?? 256;
  if (node.isolation !== undefined) info.isolation = node.isolation;
  if (onError) info.onError = true;
  return info;
}

/**
 * The dashboard's view of `workflow`, computed once per workflow object (dev swaps the object on
 * reload, so a reload is picked up at once).
 *
 * @param workflow A compiled workflow.
 * @returns A JSON-serialisable description with the graph layout.
 * @throws {TypeError} When the workflow's edges name unknown nodes (a compiler bug).
 * @example
 * ```ts
 * import { loadWorkflow } from "../engine/mod.ts";
 * const info = describeWorkflow(await loadWorkflow("examples/hn-digest"));
 * console.log(info.layout.nodes.map((n) => n.id));
 * ```
 */
export function describeWorkflow(workflow: CompiledWorkflow): WorkflowInfo {
  const cached = cache.get(workflow);
  if (cached) return cached;
  const nodes = workflow.order.map((id) => nodeInfo(workflow, workflow.nodes[id]!, false));
  if (workflow.onError) nodes.push(nodeInfo(workflow, workflow.onError, true));
  const info: WorkflowInfo = {
    name: workflow.name,
    version: workflow.version,
    codeHash: workflow.codeHash,
    triggers: workflow.triggers,
    nodes,
    edges: workflow.edges.map(({ from, to }) => ({ from, to })),
    roots: [...workflow.roots],
    sinks: [...workflow.sinks],
    layout: layoutGraph(workflow),
  };
  if (workflow.description !== undefined) info.description = workflow.description;
  if (workflow.onError) info.onError = workflow.onError.id;
  if (workflow.inputSchema !== undefined) info.inputSchema = workflow.inputSchema;
  if (workflow.concurrency) info.concurrency = workflow.concurrency;
  cache.set(workflow, info);
  return info;
}
