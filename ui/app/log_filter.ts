/**
 * The run log's filter: by node (or the run's own lines) and by minimum level. Pure predicate
 * and markup; the run page keeps the filter state and re-renders the list when it changes.
 *
 * @module
 */

import { html, type SafeHtml } from "./html.ts";

/** Levels from the most to the least verbose. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** `node`: a node id, {@link RUN_LINES} for lines of no node, undefined for every line. */
export interface LogFilter {
  node?: string;
  /** Minimum level shown; undefined shows every level. */
  level?: string;
}

/** The node-filter value of the run's own lines (no node): not a valid node id. */
export const RUN_LINES = "(run)";

function rank(level: string): number {
  const i = (LOG_LEVELS as readonly string[]).indexOf(level);
  return i === -1 ? LOG_LEVELS.indexOf("info") : i;
}

/** Whether `line` passes `filter`. */
export function logLineMatches(
  line: { node?: string; level: string },
  filter: LogFilter,
): boolean {
  if (filter.node !== undefined) {
    if (filter.node === RUN_LINES ? line.node !== undefined : line.node !== filter.node) {
      return false;
    }
  }
  return filter.level === undefined || rank(line.level) >= rank(filter.level);
}

/** True when the filter hides nothing. */
export function isEmptyFilter(filter: LogFilter): boolean {
  return filter.node === undefined && filter.level === undefined;
}

/** The filter form's fields: `<select id="log-node">` and `<select id="log-level">`. */
export function renderLogFilter(nodes: readonly string[], filter: LogFilter): SafeHtml {
  const option = (value: string, label: string, selected: boolean) =>
    html`
      <option value="${value}" ${selected
        ? html`
          selected
        `
        : ""}>${label}</option>
    `;
  const nodeOptions = [
    option("", "all nodes", filter.node === undefined),
    option(RUN_LINES, "run only (no node)", filter.node === RUN_LINES),
    ...nodes.map((id) => option(id, id, filter.node === id)),
  ];
  const levelOptions = [
    option("", "all levels", filter.level === undefined),
    ...LOG_LEVELS.slice(1).map((level) =>
      option(level, level === "error" ? "error" : `${level} and above`, filter.level === level)
    ),
  ];
  return html`
    <label for="log-node">Node</label> <select id="log-node" name="node">${nodeOptions}</select> <label
      for="log-level">Level</label> <select id="log-level" name="level">${levelOptions}</select>
  `;
}

/** "12 of 40 lines" when filtered, "" otherwise. */
export function filterSummary(shown: number, total: number, filter: LogFilter): string {
  return isEmptyFilter(filter)
    ? ""
    : `${shown} of ${total} ${total === 1 ? "line" : "lines"} shown`;
}
