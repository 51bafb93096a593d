/**
 * The DAG as SVG markup from the server-computed layout, each node coloured by status AND
 * labelled with a symbol and the status word; nodes are focusable buttons (Enter/Space selects,
 * arrow keys move along the graph, see {@link neighbour}).
 *
 * @module
 */

import type { NodeRecord } from "../../engine/mod.ts";
import type { NodeInfo } from "../describe_workflow.ts";
import type { GraphLayout, LayoutNode } from "../layout_graph.ts";
import { formatDuration, plural, statusMeta } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/** Options of {@link renderGraphSvg}. */
export interface GraphSvgOptions {
  /** The workflow's nodes (kinds, capabilities, edges). */
  nodes: readonly NodeInfo[];
  /** Node records of a run; undefined draws the static workflow. @default undefined */
  states?: Record<string, NodeRecord>;
  /** The selected node. @default undefined */
  selected?: string;
  /** Accessible name of the drawing. @default "Workflow graph" */
  label?: string;
}

const ID_CHAR_WIDTH = 8.4;
/** Generous average advance of the 12px status line's proportional font. */
const META_CHAR_WIDTH = 6.6;

/** `id` cut to fit a box `width` px wide, with an ellipsis when cut. */
export function fitLabel(id: string, width: number): string {
  const max = Math.max(4, Math.floor((width - 28) / ID_CHAR_WIDTH));
  return id.length <= max ? id : `${id.slice(0, max - 1)}…`;
}

/**
 * The status line inside a box `width` px wide: as many of `parts` as fit, in order, joined
 * with " · " (the box's tooltip and accessible name keep the whole line); the first part is cut
 * with an ellipsis when even it does not fit.
 */
export function fitMeta(parts: readonly string[], width: number): string {
  const max = Math.max(4, Math.floor((width - 36) / META_CHAR_WIDTH));
  let line = "";
  for (const part of parts) {
    const next = line === "" ? part : `${line} · ${part}`;
    if (next.length > max) break;
    line = next;
  }
  if (line !== "" || parts.length === 0) return line;
  const first = parts[0]!;
  return `${first.slice(0, max - 1)}…`;
}

/** The parts of a node's status line by importance: status, progress, duration, attempts, cache. */
export function nodeStatusParts(record: NodeRecord | undefined): string[] {
  const status = record?.status ?? "pending";
  const parts = [statusMeta(status).label];
  if (record?.progress && status === "running") {
    parts.push(`${Math.round(record.progress.value * 100)}%`);
  }
  if (record?.durationMs !== undefined) parts.push(formatDuration(record.durationMs));
  if (record && record.attempts > 1) parts.push(plural(record.attempts, "attempt"));
  if (record?.cached) parts.push("cached");
  return parts;
}

/** The status line of a node in a run: "✓ succeeded · 2 attempts · 1.2 s · cached". */
export function nodeStatusLine(record: NodeRecord | undefined): string {
  const status = record?.status ?? "pending";
  const parts = [statusMeta(status).label];
  if (record && record.attempts > 1) parts.push(plural(record.attempts, "attempt"));
  if (record?.durationMs !== undefined) parts.push(formatDuration(record.durationMs));
  if (record?.cached) parts.push("cached");
  if (record?.progress && status === "running") {
    parts.push(`${Math.round(record.progress.value * 100)}%`);
  }
  if (record?.items) {
    parts.push(`${record.items.succeeded + record.items.failed}/${record.items.total}`);
  }
  if (status === "waiting" && record?.waitingFor) parts.push(waitingText(record.waitingFor));
  return parts.join(" · ");
}

/**
 * What a waiting node waits for: "for approval", "until 14:05:00", or both; a sub-workflow
 * node: "on child run <id>" (or "on 3 child runs" for a mapped one).
 */
export function waitingText(
  waitingFor: { event?: string; dueAt?: string; childRunId?: string; children?: number },
): string {
  const parts: string[] = [];
  if (waitingFor.childRunId !== undefined) parts.push(`on child run ${waitingFor.childRunId}`);
  if (waitingFor.children !== undefined) {
    parts.push(`on ${waitingFor.children} child run${waitingFor.children === 1 ? "" : "s"}`);
  }
  if (waitingFor.event !== undefined) parts.push(`for ${waitingFor.event}`);
  if (waitingFor.dueAt !== undefined) {
    const due = new Date(waitingFor.dueAt);
    parts.push(
      `until ${Number.isNaN(due.getTime()) ? waitingFor.dueAt : due.toLocaleTimeString()}`,
    );
  }
  return parts.join(" ");
}

/** The static line of a node in the workflow view: "module · net", "subprocess". */
export function nodeKindLine(info: NodeInfo | undefined): string {
  if (!info) return "not in this version";
  const parts = [info.durable ?? (info.kind === "command" ? "subprocess" : "module")];
  if (info.capabilities.net.length > 0) parts.push("net");
  if (info.capabilities.run.length > 0) parts.push("run");
  if (info.cacheMs !== undefined) parts.push("cache");
  if (info.allowFailure) parts.push("may fail");
  return parts.join(" · ");
}

/** The accessible name of a node: its id, role and state in words. */
export function nodeAriaLabel(
  node: LayoutNode,
  info: NodeInfo | undefined,
  record: NodeRecord | undefined,
  inRun: boolean,
): string {
  const what = node.onError ? `${node.id} (onError node)` : node.id;
  return inRun ? `${what}: ${nodeStatusLine(record)}` : `${what}: ${nodeKindLine(info)}`;
}

function edgeClass(
  from: NodeRecord | undefined,
  to: NodeRecord | undefined,
  toId: string,
  inRun: boolean,
): string {
  if (!inRun) return "edge";
  if (to?.status === "skipped" || from?.status === "skipped") return "edge edge-skipped";
  if (from?.routes !== undefined && !from.routes.includes(toId)) return "edge edge-skipped";
  if (from?.status === "succeeded" || from?.status === "failed") return "edge edge-done";
  return "edge";
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/**
 * An SVG path through `points` made of cubic curves with horizontal tangents at every point,
 * so left-to-right edges read as smooth S-curves.
 */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  const [first, ...rest] = points;
  let d = `M${first!.x} ${first!.y}`;
  let prev = first!;
  for (const p of rest) {
    const mid = r1((prev.x + p.x) / 2);
    d += ` C${mid} ${prev.y} ${mid} ${p.y} ${p.x} ${p.y}`;
    prev = p;
  }
  return d;
}

/**
 * The `<svg>` of `layout`: boxes with `data-node` ids, `tabindex="0"`, `role="button"`,
 * `aria-pressed` for the selection and a descriptive `aria-label`.
 *
 * @example
 * ```ts
 * const svg = renderGraphSvg(info.layout, { nodes: info.nodes, states: record.nodes });
 * container.innerHTML = svg.value;
 * ```
 */
export function renderGraphSvg(layout: GraphLayout, options: GraphSvgOptions): SafeHtml {
  const infos = new Map(options.nodes.map((n) => [n.id, n]));
  const inRun = options.states !== undefined;
  const states = options.states ?? {};
  const edges = layout.edges.map((edge) =>
    html`
      <path class="${edgeClass(states[edge.from], states[edge.to], edge.to, inRun)}" d="${edgePath(
        edge.points,
      )}" marker-end="url(#arrow)" />
    `
  );
  const nodes = layout.nodes.map((node, index) => {
    const record = states[node.id];
    const status = inRun ? record?.status ?? "pending" : "static";
    const info = infos.get(node.id);
    const selected = node.id === options.selected;
    const symbol = inRun ? statusMeta(status).symbol : node.onError ? "!" : "▸";
    const line = inRun ? nodeStatusLine(record) : nodeKindLine(info);
    const classes = [
      "node",
      `status-${/^[a-z]+$/.test(status) ? status : "unknown"}`,
      node.onError ? "node-on-error" : "",
      info?.kind === "command" ? "node-command" : "",
      info?.kind === "workflow" || info?.kind === "sleep" || info?.kind === "wait"
        ? `node-${info.kind}`
        : "",
      info?.durable?.startsWith("map ") ? "node-map" : "",
      selected ? "selected" : "",
    ].filter((c) => c !== "").join(" ");
    return html`
      <g class="${classes}" data-node="${node.id}" data-focus-key="node:${node.id}"
        transform="translate(${node.x} ${node.y})" tabindex="0" role="button"
        aria-pressed="${selected ? "true" : "false"}" aria-label="${nodeAriaLabel(
          node,
          info,
          record,
          inRun,
        )}">
        <title>${node.id}: ${line}</title>
        <clipPath id="node-clip-${index}">
          <rect x="0" y="0" width="${node.width -
            6}" height="${node.height}" />
        </clipPath>
        <rect class="node-box" width="${node.width}" height="${node.height}" rx="8" />
        <rect class="node-stripe" width="6" height="${node.height}" rx="3" />
        <g clip-path="url(#node-clip-${index})">
          <text class="node-id" x="16" y="23">${fitLabel(
            node.onError ? `${node.id} (onError)` : node.id,
            node.width,
          )}</text>
          <text class="node-meta" x="16"
            y="43"><tspan class="node-symbol" aria-hidden="true">${symbol}</tspan> ${fitMeta(
              inRun ? nodeStatusParts(record) : line.split(" · "),
              node.width,
            )}</text>
        </g>
      </g>
    `;
  });
  return html`
    <svg class="graph" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout
      .width}" height="${layout.height}"
      role="group" aria-label="${options.label ?? "Workflow graph"}">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
          orient="auto-start-reverse">
          <path d="M0 0 L10 5 L0 10 z" class="arrow" />
        </marker>
      </defs>
      <g class="edges">${edges}</g>
      <g class="nodes">${nodes}</g>
    </svg>
  `;
}

/** Arrow keys and Home/End move the focus between nodes; other keys are not handled. */
export type NavigationKey = "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End";

const centreY = (n: LayoutNode) => n.y + n.height / 2;
const centreX = (n: LayoutNode) => n.x + n.width / 2;

/**
 * The node to focus after pressing `key` on node `id`: Right goes to a child, Left to a parent
 * (the one nearest vertically), Up/Down to the nearest node above/below in the same column (or
 * anywhere when the column has none), Home/End to the first/last node. Undefined when there is
 * nowhere to go.
 */
export function neighbour(
  layout: GraphLayout,
  id: string,
  key: NavigationKey,
): string | undefined {
  const current = layout.nodes.find((n) => n.id === id);
  if (!current) return layout.nodes[0]?.id;
  if (key === "Home") return layout.nodes[0]?.id;
  if (key === "End") return layout.nodes.at(-1)?.id;
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  const nearest = (candidates: LayoutNode[], distance: (n: LayoutNode) => number) =>
    candidates.sort((a, b) => distance(a) - distance(b) || a.y - b.y)[0]?.id;
  if (key === "ArrowRight" || key === "ArrowLeft") {
    const ids = layout.edges
      .filter((e) => (key === "ArrowRight" ? e.from : e.to) === id)
      .map((e) => (key === "ArrowRight" ? e.to : e.from));
    const candidates = ids.map((i) => byId.get(i)).filter((n): n is LayoutNode => !!n);
    return nearest(candidates, (n) => Math.abs(centreY(n) - centreY(current)));
  }
  const below = key === "ArrowDown";
  const others = layout.nodes.filter((n) =>
    n.id !== id && (below ? centreY(n) > centreY(current) : centreY(n) < centreY(current))
  );
  const column = others.filter((n) => n.x < current.x + current.width && current.x < n.x + n.width);
  const pool = column.length > 0 ? column : others;
  return nearest(
    pool,
    (n) => Math.abs(centreY(n) - centreY(current)) + Math.abs(centreX(n) - centreX(current)),
  );
}
