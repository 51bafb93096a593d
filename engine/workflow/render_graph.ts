/**
 * `renderGraph()`: a compiled workflow as a Mermaid flowchart or a Graphviz digraph.
 *
 * @module
 */

import type { CompiledNode, CompiledWorkflow, Trigger } from "../workflow_model.ts";

/** Output formats of {@link renderGraph}. */
export const GraphFormat = {
  Mermaid: "mermaid",
  Dot: "dot",
} as const;
/** One of {@link GraphFormat}. */
export type GraphFormat = typeof GraphFormat[keyof typeof GraphFormat];

/** Options of {@link renderGraph}. */
export interface RenderGraphOptions {
  /** Output format. @default "mermaid" */
  format?: GraphFormat;
}

/**
 * Renders the DAG left to right: a start node listing the triggers points at the roots, nodes
 * are labelled with their id (subprocess nodes get a distinct shape), and the onError node is
 * drawn dashed and marked "(onError)". Nodes and edges keep their declaration order, so the
 * output is deterministic.
 *
 * @param workflow A compiled workflow.
 * @returns The graph text, ending with a newline.
 * @throws {RangeError} When `format` is not "mermaid" or "dot".
 * @example
 * ```ts
 * const workflow = await loadWorkflow("examples/hn-digest");
 * console.log(renderGraph(workflow, { format: "dot" }));
 * ```
 */
export function renderGraph(workflow: CompiledWorkflow, options: RenderGraphOptions = {}): string {
  const format = options.format ?? GraphFormat.Mermaid;
  if (format === GraphFormat.Mermaid) return mermaid(workflow);
  if (format === GraphFormat.Dot) return dot(workflow);
  throw new RangeError(`Cannot render graph: unknown format "${format}", use "mermaid" or "dot"`);
}

function triggerLabel(trigger: Trigger): string {
  if (trigger.type === "cron") {
    return `cron ${trigger.schedule}${trigger.timezone ? ` (${trigger.timezone})` : ""}`;
  }
  if (trigger.type === "queue") return `queue ${trigger.subject}`;
  return "manual";
}

function mermaid(workflow: CompiledWorkflow): string {
  // Mermaid ids are generated (n0, n1, …): node ids such as "end" are Mermaid keywords.
  const ids = new Map(Object.keys(workflow.nodes).map((id, i) => [id, `n${i}`]));
  const text = (s: string) => `"${s.replaceAll('"', "#quot;")}"`;
  const shape = (node: CompiledNode, label: string) =>
    node.kind === "command" ? `[[${text(label)}]]` : `[${text(label)}]`;
  const lines = ["flowchart LR", `  %% ${workflow.name} ${workflow.version}`];
  if (workflow.triggers.length > 0) {
    lines.push(`  start([${text(workflow.triggers.map(triggerLabel).join("<br/>"))}])`);
  }
  for (const [id, node] of Object.entries(workflow.nodes)) {
    lines.push(`  ${ids.get(id)}${shape(node, id)}`);
  }
  if (workflow.triggers.length > 0) {
    for (const root of workflow.roots) lines.push(`  start --> ${ids.get(root)}`);
  }
  for (const edge of workflow.edges) lines.push(`  ${ids.get(edge.from)} --> ${ids.get(edge.to)}`);
  if (workflow.onError) {
    lines.push(
      `  %% onError: ${workflow.onError.id} runs when a run fails`,
      `  onError${shape(workflow.onError, `${workflow.onError.id} (onError)`)}`,
      "  classDef onError stroke-dasharray: 5 5",
      "  class onError onError",
    );
  }
  return lines.join("\n") + "\n";
}

function dot(workflow: CompiledWorkflow): string {
  const quote = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  const attrs = (node: CompiledNode, extra: string[] = []) => {
    const list = [...extra, ...(node.kind === "command" ? ["shape=component"] : [])];
    return list.length > 0 ? ` [${list.join(", ")}]` : "";
  };
  const lines = [
    `digraph ${quote(workflow.name)} {`,
    "  rankdir=LR;",
    "  node [shape=box];",
  ];
  // "__triggers" cannot clash with a node: node ids start with a letter or digit.
  if (workflow.triggers.length > 0) {
    const label = workflow.triggers.map(triggerLabel).join("\\n");
    lines.push(`  "__triggers" [label="${label.replaceAll('"', '\\"')}", shape=oval];`);
  }
  for (const [id, node] of Object.entries(workflow.nodes)) {
    lines.push(`  ${quote(id)}${attrs(node)};`);
  }
  if (workflow.triggers.length > 0) {
    for (const root of workflow.roots) lines.push(`  "__triggers" -> ${quote(root)};`);
  }
  for (const edge of workflow.edges) lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)};`);
  if (workflow.onError) {
    const { id } = workflow.onError;
    lines.push(
      `  // onError: ${id} runs when a run fails`,
      `  ${quote(id)}${
        attrs(workflow.onError, [`label=${quote(`${id} (onError)`)}`, "style=dashed"])
      };`,
    );
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
