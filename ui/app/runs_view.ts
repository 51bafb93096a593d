/**
 * The runs list: status filter, table and pager (pure markup builders).
 *
 * @module
 */

import type { RunSummary } from "../../store/mod.ts";
import { durationHtml, shortId, statusBadge, timeElement } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";
import { routeHref, type RunsSearch } from "./route.ts";

/** Run statuses the filter offers, in lifecycle order. */
export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;

/** The runs list's filter: status, run id prefix and a range of days. */
export interface RunsFilter extends RunsSearch {
  status?: string;
}

/** Longest input preview in the runs list, in characters. */
export const INPUT_PREVIEW_CHARS = 60;

/** A short one-line JSON preview of a run input: `{"repo":"x","n":1}`, cut with "…". */
export function inputPreview(input: unknown, max = INPUT_PREVIEW_CHARS): string {
  let text: string;
  try {
    text = JSON.stringify(input) ?? "—";
  } catch {
    text = String(input);
  }
  // JSON.stringify escapes line breaks inside strings; collapse any other whitespace runs.
  text = text.replace(/\s+/g, " ");
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The run's error on one line: "node: message" (the message as stored, already redacted). */
export function errorPreview(error: RunSummary["error"]): string {
  if (!error) return "";
  const message = error.message.replace(/\s+/g, " ").trim();
  return error.node ? `${error.node}: ${message}` : message;
}

/**
 * The filter form's fields: `<select id="status-filter">`, `<input id="run-search">` (run id
 * prefix) and `<input type="date" id="since-filter">` / `id="until-filter"` (days, inclusive).
 */
export function renderRunsFilter(filter: RunsFilter): SafeHtml {
  const status = filter.status;
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
      name="status">${options}</select> <label for="run-search">Run id</label> <input
      id="run-search" name="q" type="search" size="14" maxlength="200" placeholder="starts with…"
      autocomplete="off" spellcheck="false" value="${filter.q ?? ""}"> <label
      for="since-filter">From</label> <input id="since-filter" name="since" type="date"
      value="${filter.since ?? ""}"> <label for="until-filter">to</label> <input
      id="until-filter" name="until" type="date" value="${filter.until ?? ""}"> <button
      type="submit">Search</button>${filter.q || filter.since || filter.until
        ? html`
          <a class="button" href="${routeHref({
            page: "runs",
            status: filter.status,
          })}" data-focus-key="filter:clear">Clear</a>
        `
        : ""}
  `;
}

/** One table row; `data-run` lets live updates and focus restoration find it. */
export function renderRunRow(run: RunSummary, now: number): SafeHtml {
  return html`
    <tr data-run="${run.runId}">
      <td>${statusBadge(run.status)}</td>
      <td><a href="${routeHref({ page: "run", runId: run.runId })}" data-focus-key="run:${run
        .runId}" title="${run.runId}"><code>${shortId(run.runId)}</code></a></td>
      <td>${run.trigger ?? "—"}</td>
      <td>${timeElement(run.startedAt)}</td>
      <td>${durationHtml(run, now)}</td>
      <td>${run.version}</td>
      <td class="cell-preview"><code title="${inputPreview(run.input, 2000)}">${inputPreview(
        run.input,
      )}</code></td>
      <td class="cell-error" title="${errorPreview(run.error)}">${errorPreview(run.error)}</td>
    </tr>
  `;
}

/** The runs table; an empty list says why it is empty. */
export function renderRunsTable(
  runs: readonly RunSummary[],
  options: { now: number; status?: string; searching?: boolean },
): SafeHtml {
  const body = runs.length > 0 ? runs.map((run) => renderRunRow(run, options.now)) : html`
    <tr class="empty">
      <td colspan="8">${options.searching
        ? "No runs match the search."
        : options.status
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
          <th scope="col">Version</th>
          <th scope="col">Input</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>${body}</tbody>
    </table>
  `;
}

/** Options of {@link renderPager}. */
export interface PagerOptions extends RunsSearch {
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
        routeHref({
          page: "runs",
          status: options.status,
          q: options.q,
          since: options.since,
          until: options.until,
          cursor: cursor || undefined,
        })
      }">${label}</a>`
      : html`<span class="button" aria-disabled="true">${label}</span>`;
  const onFirst = options.cursor === undefined;
  return html`<nav class="pager" aria-label="Pages of runs">${
    link("← Newer", options.newerCursor ?? "", !onFirst, "pager:newer")
  } ${link("Older →", options.nextCursor, options.nextCursor !== undefined, "pager:older")}</nav>`;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Local midnight of `day` ("2025-01-31") plus `addDays`, as an ISO instant; undefined if malformed. */
export function localDayStart(day: string | undefined, addDays = 0): string | undefined {
  const m = day === undefined ? null : DAY.exec(day);
  if (!m) return undefined;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + addDays);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The GET /runs parameters of a search: the id prefix, `since` and `until` (days inclusive). */
export function searchParams(search: RunsSearch): { q?: string; since?: string; until?: string } {
  const q = search.q?.trim();
  return {
    q: q === "" ? undefined : q,
    since: localDayStart(search.since),
    until: localDayStart(search.until, 1),
  };
}

/** Whether a run pushed live belongs in a list filtered by `search` (judged at `now`). */
export function matchesSearch(run: RunSummary, search: RunsSearch, now: number): boolean {
  const { q, since, until } = searchParams(search);
  if (q !== undefined && !run.runId.startsWith(q)) return false;
  const at = Date.parse(run.startedAt ?? "") || now;
  if (since !== undefined && at < Date.parse(since)) return false;
  if (until !== undefined && at >= Date.parse(until)) return false;
  return true;
}
