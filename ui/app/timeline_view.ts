/**
 * The run timeline (a Gantt chart): one row per node, one bar per attempt from the node's
 * history, the waits between attempts (retry backoff) as hatched gaps, cache hits and reused
 * outputs as markers. Pure markup builder.
 *
 * @module
 */

import type { NodeRecord, RunRecord } from "../../engine/mod.ts";
import { formatDuration } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/** One bar of the chart, in ms since the run started. */
export interface TimelineBar {
  node: string;
  /** 1-based attempt; 0 for a cache hit. */
  attempt: number;
  status: string;
  start: number;
  end: number;
  /** Still running: `end` is "now". */
  open: boolean;
  error?: string;
}

/** A gap between two attempts of a node (the retry backoff). */
export interface TimelineWait {
  node: string;
  start: number;
  end: number;
}

/** What the chart shows. */
export interface Timeline {
  /** Node ids, in the order given. */
  rows: string[];
  bars: TimelineBar[];
  waits: TimelineWait[];
  /** Nodes whose output was reused from another run (no bar). */
  reused: Record<string, string>;
  /** The run's span in ms (at least 1). */
  total: number;
}

const ms = (iso: string | undefined) => iso === undefined ? NaN : Date.parse(iso);

/** The bars of one node: its history, or a cache hit, or its start and end as one attempt. */
function barsOf(id: string, node: NodeRecord, origin: number, now: number): TimelineBar[] {
  const history = node.history ?? [];
  if (history.length > 0) {
    return history.map((h) => {
      const end = ms(h.finishedAt);
      const bar: TimelineBar = {
        node: id,
        attempt: h.attempt,
        status: h.status,
        start: ms(h.startedAt) - origin,
        end: (Number.isNaN(end) ? now : end) - origin,
        open: Number.isNaN(end),
      };
      if (h.error) bar.error = h.error.message;
      return bar;
    });
  }
  const start = ms(node.startedAt);
  if (Number.isNaN(start)) return [];
  const end = ms(node.finishedAt);
  return [{
    node: id,
    attempt: node.cached ? 0 : Math.max(1, node.attempts),
    status: node.status,
    start: start - origin,
    end: (Number.isNaN(end) ? now : end) - origin,
    open: Number.isNaN(end),
  }];
}

/** The timeline of `record`, rows in `order` (then any other node of the record). */
export function buildTimeline(record: RunRecord, order: readonly string[], now: number): Timeline {
  const ids = [...order.filter((id) => id in record.nodes)];
  for (const id of Object.keys(record.nodes)) if (!ids.includes(id)) ids.push(id);
  const origin = ms(record.startedAt);
  const bars: TimelineBar[] = [];
  const waits: TimelineWait[] = [];
  const reused: Record<string, string> = {};
  if (Number.isNaN(origin)) return { rows: [], bars, waits, reused, total: 1 };
  const rows: string[] = [];
  for (const id of ids) {
    const node = record.nodes[id]!;
    if (node.reusedFrom) {
      reused[id] = node.reusedFrom;
      rows.push(id);
      continue;
    }
    const mine = barsOf(id, node, origin, now);
    if (mine.length === 0) continue;
    rows.push(id);
    bars.push(...mine);
    for (let i = 1; i < mine.length; i++) {
      const gap = { node: id, start: mine[i - 1]!.end, end: mine[i]!.start };
      if (gap.end > gap.start) waits.push(gap);
    }
  }
  const finished = ms(record.finishedAt);
  const last = Math.max(
    Number.isNaN(finished) ? now - origin : finished - origin,
    ...bars.map((b) => b.end),
  );
  return { rows, bars, waits, reused, total: Math.max(1, last) };
}

const LABEL_WIDTH = 160;
const CHART_WIDTH = 640;
const ROW = 28;
const BAR = 16;
const AXIS = 24;

function fit(text: string, width: number, charWidth: number): string {
  const max = Math.max(3, Math.floor(width / charWidth));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The chart as an `<svg>` (bars carry a `<title>` with attempt, status, duration and error). */
export function renderTimeline(timeline: Timeline): SafeHtml {
  if (timeline.rows.length === 0) {
    return html`<p class="muted">No node has started yet.</p>`;
  }
  const scale = CHART_WIDTH / timeline.total;
  const x = (t: number) => Math.round((LABEL_WIDTH + Math.max(0, t) * scale) * 10) / 10;
  const y = (node: string) => AXIS + timeline.rows.indexOf(node) * ROW;
  const height = AXIS + timeline.rows.length * ROW + 4;
  const width = LABEL_WIDTH + CHART_WIDTH + 8;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const tx = LABEL_WIDTH + f * CHART_WIDTH;
    return html`
      <line class="tl-tick" x1="${tx}" x2="${tx}" y1="${AXIS - 6}" y2="${height}" />
      <text
        class="tl-axis" x="${tx}" y="${AXIS - 10}" text-anchor="${f === 0
          ? "start"
          : f === 1
          ? "end"
          : "middle"}">${formatDuration(Math.round(f * timeline.total))}</text>
    `;
  });
  const labels = timeline.rows.map((node) =>
    html`
      <text class="tl-label" x="4" y="${y(node) + ROW / 2 + 4}"><title>${node}</title>${fit(
        node,
        LABEL_WIDTH - 12,
        7.4,
      )}</text>
    `
  );
  const waits = timeline.waits.map((w) =>
    html`
      <rect class="tl-wait" x="${x(w.start)}" y="${y(w.node) + (ROW - BAR) / 2 + 4}" width="${Math
        .max(1, x(w.end) - x(w.start))}" height="${BAR - 8}">
        <title>${w.node}: waited ${formatDuration(
          w.end - w.start,
        )} before retrying</title>
      </rect>
    `
  );
  const bars = timeline.bars.map((b) => {
    const status = /^[a-z]+$/.test(b.status) ? b.status : "unknown";
    const title = `${b.node} ${
      b.attempt === 0 ? "(cache hit)" : `attempt ${b.attempt}`
    }: ${b.status}${b.open ? " (running)" : ""}, ${formatDuration(Math.max(0, b.end - b.start))}${
      b
          .error
        ? ` — ${b.error}`
        : ""
    }`;
    return html`
      <rect class="tl-bar tl-${status}" data-node="${b.node}" data-attempt="${b.attempt}"
        x="${x(
          b.start,
        )}" y="${y(b.node) + (ROW - BAR) / 2}" width="${Math.max(
          2,
          x(b.end) - x(b.start),
        )}" height="${BAR}"
        rx="3">
        <title>${title}</title>
      </rect>
    `;
  });
  const reused = Object.entries(timeline.reused).map(([node, from]) =>
    html`
      <text class="tl-reused" x="${LABEL_WIDTH + 4}" y="${y(node) + ROW / 2 +
        4}">reused from run ${from
        .slice(0, 8)}</text>
    `
  );
  return html`
    <svg class="timeline" role="img" viewBox="0 0 ${width} ${height}" width="${width}"
      height="${height}"
      aria-label="Timeline of ${timeline.rows.length} nodes over ${formatDuration(
        timeline.total,
      )}: ${timeline
        .bars.length} attempts, ${timeline.waits
        .length} waits">${ticks}${labels}${waits}${bars}${reused}</svg>
    <p
      class="hint">Bars are attempts (hover for status, duration and error); hatched gaps are waits before a retry.</p>
  `;
}
