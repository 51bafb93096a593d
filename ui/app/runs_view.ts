/**
 * The runs list: status filter, table and pager (pure markup builders).
 *
 * @module
 */

import type { RunSummary } from "../../store/mod.ts";
import { durationHtml, shortId, statusBadge, timeElement } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";
import { routeHref } from "./route.ts";

/** Run statuses the filter offers, in lifecycle order. */
export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;

/** The status filter: a labelled `<select id="status-filter">`. */
export function renderRunsFilter(status: string | undefined): SafeHtml {
  const options = ["", ...RUN_STATUSES].map((s) =>
    html`
      <option value="${s}" ${s === (status ?? "")
        ? html`
          selected
        `
        : ""}>${s === "" ? "all statuses" : s}</option>
    `
  );
  return html`
    <label for="status-filter">Status</label> <select id="status-filter"
      name="status">${options}</select>
  `;
}

/** A one-line preview of a JSON value, cut at `max` characters. */
export function previewJson(value: unknown, max = 60): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? "—";
  } catch {
    text = String(value);
  }
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The search box (a run id or its first characters) and the date range of the listed runs. */
export function renderRunsSearch(): SafeHtml {
  return html`
    <label for="run-search">Run id</label> <input id="run-search" name="run" type="search"
      placeholder="id or prefix" autocomplete="off" spellcheck="false" size="14" /> <button
      type="submit">Find</button> <label for="since">From</label> <input id="since" name="since"
      type="date" /> <label for="until">to</label> <input id="until" name="until" type="date" />
  `;
}

/** Whether `run` started within [since, until] (dates as YYYY-MM-DD, local days; "" = open). */
export function inDateRange(run: RunSummary, since: string, until: string): boolean {
  if (since === "" && until === "") return true;
  if (run.startedAt === undefined) return false;
  const started = new Date(run.startedAt);
  const day = (d: Date) =>
    `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${
      String(d.getDate()).padStart(2, "0")
    }`;
  const d = day(started);
  return (since === "" || d >= since) && (until === "" || d <= until);
}

/** One table row; `data-run` lets live updates and focus restoration find it. */
export function renderRunRow(run: RunSummary, now: number): SafeHtml {
  const error = run.error
    ? `${run.error.node ? `${run.error.node}: ` : ""}${run.error.message}`
    : "";
  return html`
    <tr data-run="${run.runId}">
      <td>${statusBadge(run.status)}</td>
      <td><a href="${routeHref({ page: "run", runId: run.runId })}" data-focus-key="run:${run
        .runId}" title="${run.runId}"><code>${shortId(run.runId)}</code></a></td>
      <td>${run.trigger ?? "—"}</td>
      <td>${timeElement(run.startedAt)}</td>
      <td>${durationHtml(run, now)}</td>
      <td><code class="preview" title="${previewJson(run.input, 2000)}">${previewJson(
        run.input,
      )}</code></td>
      <td class="run-error-cell" title="${error}">${error === ""
        ? "—"
        : error.length <= 80
        ? error
        : `${error.slice(0, 79)}…`}</td>
      <td>${run.version}</td>
    </tr>
  `;
}

/** The runs table; an empty list says why it is empty. */
export function renderRunsTable(
  runs: readonly RunSummary[],
  options: { now: number; status?: string },
): SafeHtml {
  const body = runs.length > 0 ? runs.map((run) => renderRunRow(run, options.now)) : html`
    <tr class="empty">
      <td colspan="8">${options.status
        ? `No ${options.status} runs.`
        : "No runs yet: start one above."}</td>
    </tr>
  `;
  return html`
    <table class="runs">
      <caption class="visually-hidden">Runs, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Status</th>
          <th scope="col">Run</th>
          <th scope="col">Trigger</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Input</th>
          <th scope="col">Error</th>
          <th scope="col">Version</th>
        </tr>
      </thead>
      <tbody>${body}</tbody>
    </table>
  `;
}

/** Options of {@link renderPager}. */
export interface PagerOptions {
  status?: string;
  /** Cursor of the page shown; undefined on the newest page. */
  cursor?: string;
  /** Cursor of the previous (newer) page, when known; "" means the newest page. */
  newerCursor?: string;
  /** Cursor of the next (older) page; undefined on the last page. */
  nextCursor?: string;
}

/** "Newer" and "Older" links (absent ones are disabled, not hidden, so the layout is stable). */
export function renderPager(options: PagerOptions): SafeHtml {
  const link = (label: string, cursor: string | undefined, enabled: boolean, key: string) =>
    enabled
      ? html`<a class="button" data-focus-key="${key}" href="${
        routeHref({ page: "runs", status: options.status, cursor: cursor || undefined })
      }">${label}</a>`
      : html`<span class="button" aria-disabled="true">${label}</span>`;
  const onFirst = options.cursor === undefined;
  return html`<nav class="pager" aria-label="Pages of runs">${
    link("← Newer", options.newerCursor ?? "", !onFirst, "pager:newer")
  } ${link("Older →", options.nextCursor, options.nextCursor !== undefined, "pager:older")}</nav>`;
}
