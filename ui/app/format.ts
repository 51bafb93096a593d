/**
 * Formatting shared by every view: status badges (a symbol and a word, so colour is never the
 * only signal), durations, times, ids and JSON.
 *
 * @module
 */

import { html, type SafeHtml } from "./html.ts";

/** Symbol and label of every run and node status. */
export const STATUS_META: Record<string, { symbol: string; label: string }> = {
  queued: { symbol: "◷", label: "queued" },
  pending: { symbol: "○", label: "pending" },
  running: { symbol: "◐", label: "running" },
  succeeded: { symbol: "✓", label: "succeeded" },
  failed: { symbol: "✕", label: "failed" },
  cancelled: { symbol: "⊘", label: "cancelled" },
  skipped: { symbol: "↷", label: "skipped" },
  waiting: { symbol: "⏸", label: "waiting" },
};

/** Run statuses after which nothing changes any more. */
export const FINISHED: readonly string[] = ["succeeded", "failed", "cancelled"];

/** Whether a run (or node) status is final. */
export function isFinished(status: string): boolean {
  return FINISHED.includes(status) || status === "skipped";
}

/** Symbol and label of `status` (unknown statuses are shown as they are). */
export function statusMeta(status: string): { symbol: string; label: string } {
  return STATUS_META[status] ?? { symbol: "?", label: status };
}

/** A status badge: `<span class="badge status-x">✓ succeeded</span>`. */
export function statusBadge(status: string): SafeHtml {
  const { symbol, label } = statusMeta(status);
  return html`
    <span
      class="badge status-${/^[a-z]+$/.test(status)
        ? status
        : "unknown"}"><span aria-hidden="true">${symbol}</span> ${label}</span>
  `;
}

/**
 * A duration for people: "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min".
 *
 * @example
 * ```ts
 * formatDuration(65_000); // "1 min 05 s"
 * ```
 */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An ISO timestamp as local "YYYY-MM-DD HH:MM:SS"; "—" when absent or invalid. */
export function formatTime(iso: string | undefined): string {
  if (iso === undefined) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A `<time>` element for `iso` (the full ISO value is in `datetime` and the tooltip). */
export function timeElement(iso: string | undefined): SafeHtml {
  if (iso === undefined) return html`<span>—</span>`;
  return html`<time datetime="${iso}" title="${iso}">${formatTime(iso)}</time>`;
}

/** The duration of a run or node: recorded, or elapsed so far while it runs. */
export function elapsed(
  item: { status: string; startedAt?: string; durationMs?: number },
  now: number,
): number | undefined {
  if (item.durationMs !== undefined) return item.durationMs;
  if (item.status !== "running" || item.startedAt === undefined) return undefined;
  const started = Date.parse(item.startedAt);
  return Number.isNaN(started) ? undefined : Math.max(0, now - started);
}

/** The first 8 characters of a run id (UUIDs are unique enough there for people). */
export function shortId(runId: string): string {
  return runId.length > 12 ? runId.slice(0, 8) : runId;
}

/** Largest JSON text shown in full; longer values are cut with a note. */
export const MAX_JSON_CHARS = 100_000;

/** Pretty JSON for a `<pre>`, cut after {@link MAX_JSON_CHARS} characters. */
export function formatJson(value: unknown): string {
  if (value === undefined) return "(none)";
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length <= MAX_JSON_CHARS) return text;
  return `${text.slice(0, MAX_JSON_CHARS)}\n… (${text.length - MAX_JSON_CHARS} more characters)`;
}

/** "1 attempt", "3 attempts". */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/**
 * The duration of a run or node as markup: while it runs, a `.live-duration` span that the page
 * ticker advances every second (`data-started` holds the start time).
 */
export function durationHtml(
  item: { status: string; startedAt?: string; durationMs?: number },
  now: number,
): SafeHtml {
  const text = formatDuration(elapsed(item, now));
  if (item.status === "running" && item.durationMs === undefined && item.startedAt) {
    return html`<span class="live-duration" data-started="${item.startedAt}">${text}</span>`;
  }
  return html`${text}`;
}
