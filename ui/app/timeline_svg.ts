/**
 * The run timeline as SVG markup: a node column, a time axis, and per row the bars of
 * {@link layoutTimeline}. Every bar carries its status as a symbol and in its tooltip, so colour
 * is never the only signal; waits are hatched, open-ended bars end in a chevron.
 *
 * @module
 */

import { statusMeta } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";
import {
  layoutTimeline,
  type TimelineBar,
  type TimelineLayout,
  type TimelineRun,
} from "./timeline.ts";

/** Width of the node-name column. */
export const LABEL_WIDTH = 170;
const ROW_HEIGHT = 28;
const BAR_HEIGHT = 18;
const AXIS_HEIGHT = 24;
const RIGHT_PAD = 16;
/** Advance of the 12px monospace node name, generous so names are never clipped. */
const LABEL_CHAR_WIDTH = 7.4;

/** `id` cut with an ellipsis to fit `width` px of the 12px monospace name font. */
export function fitTimelineLabel(id: string, width = LABEL_WIDTH - 12): string {
  const max = Math.max(3, Math.floor(width / LABEL_CHAR_WIDTH));
  return id.length <= max ? id : `${id.slice(0, max - 1)}…`;
}

/** Options of {@link renderTimelineSvg}. */
export interface TimelineSvgOptions {
  /** Node ids in display order. */
  order: readonly string[];
  now: number;
  /** Width of the whole drawing in px (node column included). */
  width: number;
  /** The selected node (its row is highlighted). */
  selected?: string;
  /** Accessible name. @default "Run timeline" */
  label?: string;
}

const safeClass = (s: string) => /^[a-z-]+$/.test(s) ? s : "unknown";

function barMarkup(node: string, bar: TimelineBar, y: number): SafeHtml {
  const x = LABEL_WIDTH + bar.x;
  // Attempts carry their status symbol and number; waits are told apart by their hatching.
  const text = bar.kind !== "attempt"
    ? ""
    : `${statusMeta(bar.status).symbol}${bar.attempt !== undefined ? ` ${bar.attempt}` : ""}`;
  const classes = [
    "tl-bar",
    `tl-${bar.kind}`,
    `status-${safeClass(bar.status)}`,
    bar.open ? "tl-open" : "",
  ].filter((c) => c !== "").join(" ");
  const mid = y + BAR_HEIGHT / 2;
  return html`
    <g class="${classes}" data-node="${node}" data-kind="${bar
      .kind}" ${bar.attempt !== undefined && bar.kind === "attempt"
      ? html`
        data-attempt="${bar.attempt}"
      `
      : ""}
      data-status="${bar.status}"><title>${bar.title}</title><rect x="${x}" y="${y}" width="${bar
        .width}" height="${BAR_HEIGHT}" rx="3" />${text !== "" && bar.width >= text.length * 8 + 6
        ? html`<text class="tl-bar-text" x="${x + 4}" y="${
          mid + 4
        }" aria-hidden="true">${text}</text>`
        : ""}${bar.open
        ? html`<path class="tl-chevron" d="M${x + bar.width + 2} ${y + 3} l5 ${
          BAR_HEIGHT / 2 - 3
        } l-5 ${BAR_HEIGHT / 2 - 3}" />`
        : ""}</g>
  `;
}

/** The `<svg>` of a laid-out timeline (see {@link renderTimelineSvg}). */
export function timelineSvg(
  layout: TimelineLayout,
  options: { selected?: string; label?: string },
): SafeHtml {
  const height = AXIS_HEIGHT + layout.rows.length * ROW_HEIGHT + 4;
  const width = LABEL_WIDTH + layout.width + RIGHT_PAD;
  const ticks = layout.ticks.map((tick) =>
    html`
      <g class="tl-tick">
        <line x1="${LABEL_WIDTH + tick.x}" y1="${AXIS_HEIGHT - 4}" x2="${LABEL_WIDTH +
          tick.x}" y2="${height}" />
        <text x="${LABEL_WIDTH + tick.x + 3}" y="${AXIS_HEIGHT - 9}">${tick.label}</text>
      </g>
    `
  );
  const rows = layout.rows.map((row, i) => {
    const y = AXIS_HEIGHT + i * ROW_HEIGHT;
    const barY = y + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const selected = row.node === options.selected;
    return html`
      <g class="tl-row${selected ? " selected" : ""}${i % 2 === 1 ? " tl-odd" : ""}"
        data-node="${row
          .node}"><rect class="tl-row-bg" x="0" y="${y}" width="${width}" height="${ROW_HEIGHT}" /><text class="tl-label" x="6" y="${y +
          ROW_HEIGHT / 2 + 4}"><title>${row.node}: ${row.status}</title>${fitTimelineLabel(
            row.node,
          )}</text>${row.bars.map((bar) => barMarkup(row.node, bar, barY))}${row.note !== undefined
          ? html`<text class="tl-note" x="${LABEL_WIDTH + 4}" y="${
            y + ROW_HEIGHT / 2 + 4
          }">${row.note}</text>`
          : ""}</g>
    `;
  });
  return html`
    <svg class="timeline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"
      role="group" aria-label="${options.label ?? "Run timeline"}">
      <defs>
        <pattern id="tl-hatch" width="6" height="6" patternUnits="userSpaceOnUse"
          patternTransform="rotate(45)">
          <rect width="6" height="6" class="tl-hatch-bg" />
          <line x1="0" y1="0" x2="0" y2="6" class="tl-hatch-line" />
        </pattern>
      </defs>
      <g class="tl-ticks">${ticks}</g>
      <g class="tl-rows">${rows}</g>
    </svg>
  `;
}

/**
 * The timeline of `run` as SVG `width` px wide: a row per node in `order`, a bar per attempt.
 *
 * @example
 * ```ts
 * container.innerHTML = renderTimelineSvg(record, { order, now: Date.now(), width: 800 }).value;
 * ```
 */
export function renderTimelineSvg(run: TimelineRun, options: TimelineSvgOptions): SafeHtml {
  const plot = Math.max(120, options.width - LABEL_WIDTH - RIGHT_PAD);
  const layout = layoutTimeline(run, { order: options.order, now: options.now, width: plot });
  return timelineSvg(layout, { selected: options.selected, label: options.label });
}
