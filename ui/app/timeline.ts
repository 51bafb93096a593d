/**
 * The run timeline (a Gantt chart) as data: one row per node, one bar per attempt (from the
 * node's attempt history when the record has one, else one bar from the node's start and
 * finish), the waits between attempts (retry back-off) and durable waits as open-ended bars.
 * Pure: the same record, options and `now` always give the same layout.
 *
 * @module
 */

import { formatDuration } from "./format.ts";

/** One attempt of a node as the record keeps it (SPEC §11 `nodes.<id>.history`). */
export interface TimelineAttempt {
  attempt: number;
  status: string;
  startedAt: string;
  finishedAt?: string;
  error?: { message: string };
}

/** What the timeline reads of a node record. */
export interface TimelineNode {
  status: string;
  attempts?: number;
  startedAt?: string;
  finishedAt?: string;
  error?: { message: string };
  cached?: boolean;
  /** The run whose output this node reused (a retried run, SPEC §11). */
  reusedFrom?: string;
  history?: readonly TimelineAttempt[];
  /** What a waiting node waits for (SPEC §10). */
  waitingFor?: { event?: string; dueAt?: string; childRunId?: string; children?: number };
}

/** What the timeline reads of a run record. */
export interface TimelineRun {
  status: string;
  startedAt?: string;
  finishedAt?: string;
  nodes: Readonly<Record<string, TimelineNode>>;
}

/** A bar: an attempt, a wait before a retry, or a durable wait. Times are epoch ms. */
export interface TimelineBar {
  kind: "attempt" | "retry-wait" | "waiting";
  /** The attempt's status; "waiting" for both kinds of wait. */
  status: string;
  /** 1-based attempt number (for waits: the attempt that follows, when known). */
  attempt?: number;
  start: number;
  end: number;
  /** Still going at `now`: drawn open-ended (no right edge). */
  open: boolean;
  /** Left edge and width in px within the plot area. */
  x: number;
  width: number;
  /** Tooltip text: what, when, how long, why it failed. */
  title: string;
}

/** One row of the chart. */
export interface TimelineRow {
  node: string;
  status: string;
  bars: TimelineBar[];
  /** Why the row has no bar ("not started", "skipped", "output from cache"). */
  note?: string;
}

/** A vertical grid line with its offset from the start ("+1.5 s"). */
export interface TimelineTick {
  x: number;
  label: string;
}

/** The whole chart; the plot area is `width` px wide, times run from `start` to `end`. */
export interface TimelineLayout {
  start: number;
  end: number;
  width: number;
  rows: TimelineRow[];
  ticks: TimelineTick[];
}

/** Options of {@link layoutTimeline}. */
export interface TimelineOptions {
  /** Node ids in display order (the workflow's); nodes of the record not in it come last. */
  order: readonly string[];
  /** Current time (epoch ms): the end of bars still open. */
  now: number;
  /** Width of the plot area in px. */
  width: number;
  /** Narrowest bar drawn, so an instant attempt stays visible. @default 3 */
  minBarWidth?: number;
}

function ms(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

const TICK_STEPS = [1, 2, 5].flatMap((m) =>
  [1, 10, 100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 36_000_000].map((p) => m * p)
).sort((a, b) => a - b);

/** The smallest "round" step that gives at most `maxTicks` grid lines over `span` ms. */
export function tickStep(span: number, maxTicks: number): number {
  return TICK_STEPS.find((step) => span / step <= maxTicks) ?? TICK_STEPS.at(-1)!;
}

interface RawBar {
  kind: TimelineBar["kind"];
  status: string;
  attempt?: number;
  start: number;
  end: number;
  open: boolean;
  detail?: string;
}

function attemptBars(node: TimelineNode, now: number): RawBar[] {
  const history = node.history;
  if (history && history.length > 0) {
    const bars: RawBar[] = [];
    let previousEnd: number | undefined;
    for (const entry of history) {
      const start = ms(entry.startedAt);
      if (start === undefined) continue;
      if (previousEnd !== undefined && start > previousEnd) {
        bars.push({
          kind: "retry-wait",
          status: "waiting",
          attempt: entry.attempt,
          start: previousEnd,
          end: start,
          open: false,
        });
      }
      const finished = ms(entry.finishedAt);
      const open = finished === undefined && entry.status === "running";
      const end = finished ?? (open ? Math.max(now, start) : start);
      bars.push({
        kind: "attempt",
        status: entry.status,
        attempt: entry.attempt,
        start,
        end,
        open,
        detail: entry.error?.message,
      });
      previousEnd = end;
    }
    const last = history.at(-1);
    // The last attempt failed and the node is not finished: it waits for its next attempt.
    if (
      last && last.status === "failed" && previousEnd !== undefined &&
      (node.status === "running" || node.status === "pending")
    ) {
      bars.push({
        kind: "retry-wait",
        status: "waiting",
        attempt: last.attempt + 1,
        start: previousEnd,
        end: Math.max(now, previousEnd),
        open: true,
      });
    }
    if (node.status === "waiting") bars.push(waitingBar(node, previousEnd, now));
    return bars;
  }
  const start = ms(node.startedAt);
  if (node.status === "waiting") return [waitingBar(node, start, now)];
  if (start === undefined) return [];
  const finished = ms(node.finishedAt);
  const open = finished === undefined && node.status === "running";
  return [{
    kind: "attempt",
    status: node.status,
    attempt: node.attempts !== undefined && node.attempts > 0 ? node.attempts : undefined,
    start,
    end: finished ?? (open ? Math.max(now, start) : start),
    open,
    detail: node.error?.message,
  }];
}

function waitingBar(node: TimelineNode, after: number | undefined, now: number): RawBar {
  const start = after ?? ms(node.startedAt) ?? now;
  const what = node.waitingFor?.event !== undefined
    ? `event "${node.waitingFor.event}"`
    : node.waitingFor?.dueAt !== undefined
    ? `until ${node.waitingFor.dueAt}`
    : node.waitingFor?.childRunId !== undefined
    ? `child run ${node.waitingFor.childRunId}`
    : node.waitingFor?.children !== undefined
    ? `${node.waitingFor.children} child runs`
    : undefined;
  return {
    kind: "waiting",
    status: "waiting",
    start,
    end: Math.max(now, start),
    open: true,
    detail: what === undefined ? undefined : `waiting for ${what}`,
  };
}

function titleOf(node: string, bar: RawBar): string {
  const duration = `${formatDuration(bar.end - bar.start)}${bar.open ? " so far" : ""}`;
  const what = bar.kind === "attempt"
    ? `${bar.attempt !== undefined ? `attempt ${bar.attempt}` : "run"} · ${bar.status}`
    : bar.kind === "retry-wait"
    ? `waiting before attempt ${bar.attempt ?? "?"}`
    : "waiting";
  const parts = [`${node} · ${what} · ${duration}`, `from ${new Date(bar.start).toISOString()}`];
  if (!bar.open) parts.push(`to ${new Date(bar.end).toISOString()}`);
  if (bar.detail) parts.push(bar.detail);
  return parts.join("\n");
}

function noteOf(node: TimelineNode | undefined): string {
  if (!node) return "not started";
  if (node.cached) return "output from cache";
  if (node.reusedFrom !== undefined) return `output reused from run ${node.reusedFrom.slice(0, 8)}`;
  if (node.status === "skipped") return "skipped";
  if (node.status === "cancelled") return "cancelled before it started";
  if (node.status === "succeeded") return "no timing recorded";
  return "not started";
}

/**
 * Lays out the timeline of `run`: rows in `options.order`, bars in px within `options.width`.
 * The time axis runs from the run's start (or its earliest bar) to its finish (or `now` while
 * it is unfinished, or its latest bar).
 *
 * @example
 * ```ts
 * const layout = layoutTimeline(record, { order: ["fetch", "post"], now: Date.now(), width: 600 });
 * layout.rows[0].bars.length; // attempts of "fetch" plus the waits between them
 * ```
 */
export function layoutTimeline(run: TimelineRun, options: TimelineOptions): TimelineLayout {
  const { now, width } = options;
  const minBar = options.minBarWidth ?? 3;
  const ids = [
    ...options.order,
    ...Object.keys(run.nodes).filter((id) => !options.order.includes(id)),
  ];
  const raw = ids.map((id) => ({
    id,
    node: run.nodes[id],
    // A reused node's times (and history) are those of the run it was reused from: no bar here.
    bars: run.nodes[id] && run.nodes[id]!.reusedFrom === undefined
      ? attemptBars(run.nodes[id]!, now)
      : [],
  }));
  const all = raw.flatMap((r) => r.bars);
  const runStart = ms(run.startedAt);
  const runEnd = ms(run.finishedAt);
  const start = Math.min(runStart ?? Infinity, ...all.map((b) => b.start));
  const unfinished = runEnd === undefined || all.some((b) => b.open);
  const end = Math.max(
    runEnd ?? -Infinity,
    ...all.map((b) => b.end),
    unfinished && Number.isFinite(start) ? now : -Infinity,
  );
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    return {
      start: now,
      end: now,
      width,
      ticks: [],
      rows: raw.map((r) => ({
        node: r.id,
        status: r.node?.status ?? "pending",
        bars: [],
        note: noteOf(r.node),
      })),
    };
  }
  const span = Math.max(1, end - start);
  const scale = width / span;
  const xOf = (t: number) => Math.round((t - start) * scale * 10) / 10;
  const rows = raw.map((r): TimelineRow => {
    const bars = r.bars.map((bar): TimelineBar => {
      const x = Math.min(xOf(bar.start), Math.max(0, width - minBar));
      const w = Math.max(minBar, xOf(bar.end) - xOf(bar.start));
      return {
        kind: bar.kind,
        status: bar.status,
        ...(bar.attempt !== undefined ? { attempt: bar.attempt } : {}),
        start: bar.start,
        end: bar.end,
        open: bar.open,
        x,
        width: Math.round(Math.min(w, width - x) * 10) / 10,
        title: titleOf(r.id, bar),
      };
    });
    const row: TimelineRow = { node: r.id, status: r.node?.status ?? "pending", bars };
    if (bars.length === 0) row.note = noteOf(r.node);
    return row;
  });
  const step = tickStep(span, Math.max(2, Math.floor(width / 90)));
  const ticks: TimelineTick[] = [];
  for (let t = 0; t <= span; t += step) {
    ticks.push({ x: xOf(start + t), label: t === 0 ? "0" : `+${formatDuration(t)}` });
  }
  return { start, end, width, rows, ticks };
}
