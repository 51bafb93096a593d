/**
 * The run page: header with actions, node details and log lines (pure markup builders).
 *
 * @module
 */

import type { NodeRecord, RunRecord } from "../../engine/mod.ts";
import type { StoredLogLine } from "../../store/mod.ts";
import {
  durationHtml,
  formatDuration,
  formatJson,
  isFinished,
  statusBadge,
  timeElement,
} from "./format.ts";
import { html, type SafeHtml } from "./html.ts";
import type { DerivedInput } from "./run_state.ts";
import { waitingText } from "./graph_svg.ts";

/**
 * What a waiting run waits for (SPEC §10): each waiting node with its event and due time; for
 * `event: approval`, a comment box with Approve and Reject (payload `{ approved, comment }`).
 */
export function renderWaiting(record: RunRecord): SafeHtml {
  const waiting = Object.entries(record.nodes).filter(([, n]) => n.status === "waiting");
  if (record.status !== "waiting" || waiting.length === 0) return html``;
  return html`
    <section class="waiting-panel" aria-label="Waiting">${waiting.map(([id, node]) => {
      const event = node.waitingFor?.event;
      const due = node.waitingFor?.dueAt;
      const child = node.waitingFor?.childRunId;
      const children = node.waitingFor?.children;
      const what = html`
        <p>Node <code>${id}</code> waits${child !== undefined
          ? html`
            on its child run <a href="#/runs/${encodeURIComponent(child)}"><code>${child}</code></a>
          `
          : ""}${children !== undefined
          ? html`
            on ${children} child runs (see its elements)
          `
          : ""}${event !== undefined
          ? html`
            for the event <strong>${event}</strong>
          `
          : ""}${due !== undefined
          ? html`
            until ${timeElement(due)}
          `
          : ""}.</p>
      `;
      if (event !== "approval") return what;
      return html`
        ${what}<label>Comment <textarea data-approval-comment="${id}"></textarea></label>
        <div class="actions">
          <button type="button" data-action="approve" data-node="${id}">Approve</button>
          <button type="button" class="danger" data-action="reject" data-node="${id}">Reject</button>
        </div>
      `;
    })}</section>
  `;
}

/** The run's title, facts and the Cancel / Re-run buttons that apply to its status. */
export function renderRunHeader(
  record: RunRecord,
  options: { now: number; currentCodeHash?: string },
): SafeHtml {
  const finished = isFinished(record.status);
  const retry = record.status === "failed" || record.status === "cancelled";
  const actions = finished
    ? html`
      ${retry
        ? html`
          <button type="button" data-action="retry" data-focus-key="action:retry"
            title="A new run that reuses the outputs of the nodes that succeeded">Retry from failed node</button>
        `
        : ""}<button type="button" data-action="rerun" class="${retry ? "secondary" : ""}"
        data-focus-key="action:primary">Re-run with the same input</button>
    `
    : html`
      <button type="button" class="danger" data-action="cancel"
        data-focus-key="action:primary">Cancel run</button>
    `;
  const otherCode = record.codeHash !== undefined && options.currentCodeHash !== undefined &&
    record.codeHash !== options.currentCodeHash;
  return html`
    <div
      class="run-title"><h1>Run <code title="${record.runId}">${record
        .runId}</code></h1><span id="run-status">${statusBadge(record.status)}</span></div><div
      class="actions">${actions}</div><dl class="facts">
      <div>
        <dt>Trigger</dt>
        <dd>${record.trigger ?? "—"}</dd>
      </div>${record.retryOf
        ? html`
          <div>
            <dt>Retry of</dt>
            <dd><a href="#/runs/${encodeURIComponent(record.retryOf)}"><code>${record.retryOf
              .slice(0, 8)}</code></a>${record.retryFrom ? ` from ${record.retryFrom}` : ""}</dd>
          </div>
        `
        : ""}
      <div>
        <dt>Version</dt>
        <dd>${record.version}</dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>${timeElement(record.startedAt)}</dd>
      </div>
      <div>
        <dt>Finished</dt>
        <dd>${timeElement(record.finishedAt)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>${durationHtml(record, options.now)}</dd>
      </div>
      <div>
        <dt>Code</dt>
        <dd><code title="${record.codeHash ?? ""}">${record.codeHash?.slice(0, 12) ??
          "—"}</code></dd>
      </div>
    </dl>${record.error
      ? html`
        <p class="run-error"
          role="note"><strong>Failed at node <code>${record.error.node}</code>:</strong> ${record
            .error.message}</p>
      `
      : ""}${otherCode
      ? html`
        <p
          class="note">This run executed an earlier version of the code; the graph shows the current one.</p>
      `
      : ""}${renderWaiting(record)}${record.parentRunId
      ? html`
        <p
          class="note">Child run of <a href="#/runs/${encodeURIComponent(
            record.parentRunId,
          )}">${record.parentRunId}</a> (node <code>${record.parentNode ?? ""}</code>).</p>
      `
      : ""}
  `;
}

/** The run input and result as collapsible JSON blocks. */
export function renderRunData(record: RunRecord): SafeHtml {
  return html`
    <details>
      <summary>Run input</summary>
      <pre>${formatJson(record.input)}</pre>
    </details>${record.result !== undefined
      ? html`
        <details>
          <summary>Run result</summary>
          <pre>${formatJson(record.result)}</pre>
        </details>
      `
      : ""}
  `;
}

/** Log time as "HH:MM:SS.mmm" (local). */
export function logTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
    p(d.getMilliseconds(), 3)
  }`;
}

/** One log line; the node and attempt are shown when `showNode` (the run's whole log). */
export function renderLogLine(line: StoredLogLine, showNode: boolean): SafeHtml {
  const level = /^[a-z]+$/.test(line.level) ? line.level : "info";
  const where = showNode && line.node !== undefined
    ? html`
      <span class="log-node">${line.node}${line.attempt !== undefined && line.attempt > 1
        ? `#${line.attempt}`
        : ""}</span>
    `
    : "";
  const fields = line.fields && Object.keys(line.fields).length > 0
    ? html`
      <span class="log-fields">${JSON.stringify(line.fields)}</span>
    `
    : "";
  return html`
    <li class="log-line level-${level}" data-node="${line.node ?? ""}" data-level="${level}"
      data-seq="${line.seq}"><time datetime="${line.ts}">${logTime(
        line.ts,
      )}</time> <span class="log-level">${level
        .toUpperCase()}</span> ${where}<span class="log-msg">${line.msg}</span>${fields}</li>
  `;
}

/** Everything about one node of a run: state, input, output, error with stack, log lines. */
export function renderNodeDetail(
  nodeId: string,
  record: NodeRecord | undefined,
  options: {
    input: DerivedInput;
    logs: readonly StoredLogLine[];
    now: number;
    /** Offer "Re-run from here" (the run has ended and the node is in the DAG). */
    rerunFrom?: boolean;
  },
): SafeHtml {
  const status = record?.status ?? "pending";
  const error = record?.error;
  const facts = [
    html`
      <div>
        <dt>Attempts</dt>
        <dd>${record?.attempts ?? 0}</dd>
      </div>
    `,
    html`
      <div>
        <dt>Duration</dt>
        <dd>${record ? durationHtml(record, options.now) : "—"}</dd>
      </div>
    `,
    html`
      <div>
        <dt>Started</dt>
        <dd>${timeElement(record?.startedAt)}</dd>
      </div>
    `,
    html`
      <div>
        <dt>Finished</dt>
        <dd>${timeElement(record?.finishedAt)}</dd>
      </div>
    `,
    html`
      <div>
        <dt>Cache</dt>
        <dd>${record?.cached ? "hit (output reused)" : "—"}</dd>
      </div>
    `,
    record?.routes !== undefined
      ? html`
        <div>
          <dt>Routed to</dt>
          <dd>${record.routes.length > 0 ? record.routes.join(", ") : "no child"}</dd>
        </div>
      `
      : "",
    record?.items
      ? html`
        <div>
          <dt>Elements</dt>
          <dd>${record.items.succeeded + record.items.failed}/${record.items
            .total} done (${record.items.failed} failed, ${record.items.running} running)</dd>
        </div>
      `
      : "",
    record?.waitingFor
      ? html`
        <div>
          <dt>Waiting</dt>
          <dd>${waitingText(record.waitingFor)}</dd>
        </div>
      `
      : "",
    record?.childRunId
      ? html`
        <div>
          <dt>Child run</dt>
          <dd><a href="#/runs/${encodeURIComponent(record.childRunId)}">${record
            .childRunId}</a></dd>
        </div>
      `
      : "",
    record?.progress
      ? html`
        <div>
          <dt>Progress</dt>
          <dd>${Math.round(record.progress.value * 100)}%${record.progress.message
            ? ` — ${record.progress.message}`
            : ""}</dd>
        </div>
      `
      : "",
  ];
  const input = options.input.known
    ? html`<pre>${formatJson(options.input.value)}</pre>`
    : html`<p class="muted">Not available: ${options.input.reason}.</p>`;
  const output = status === "succeeded"
    ? html`<pre data-testid="node-output">${formatJson(record?.output)}</pre>`
    : html`<p class="muted">${status === "running" ? "Not finished yet." : "No output."}</p>`;
  const errorBlock = error
    ? html`
      <h3>Error</h3><p
        class="node-error"><strong>${error.name ?? "Error"}:</strong> ${error
          .message}</p>${error.capability
          ? html`<p class="hint">Grant it in workflow.yaml: <code>capabilities: ${error.capability}</code></p>`
          : ""}${error.stack
          ? html`
            <details open>
              <summary>Stack</summary>
              <pre>${error.stack}</pre>
            </details>
          `
          : ""}
    `
    : "";
  const rerun = options.rerunFrom
    ? html`
      <p class="actions"><button type="button" data-action="retry-from" data-node="${nodeId}"
        title="A new run that reuses the nodes above this one and runs it and everything below it"
        data-focus-key="action:retry-from">Re-run from here</button></p>
    `
    : "";
  const logs = options.logs.length > 0
    ? html`<ol class="log">${options.logs.map((line) => renderLogLine(line, false))}</ol>`
    : html`<p class="muted">No log lines.</p>`;
  return html`
    <h2 id="node-title" tabindex="-1">Node <code>${nodeId}</code> ${statusBadge(
      status,
    )}</h2>${rerun}<dl
      class="facts">${facts}</dl>${renderHistory(
        record,
      )}<h3>Input</h3>${input}<h3>Output</h3>${output}${errorBlock}<h3>Log</h3>${logs}
  `;
}

/** The node's attempts: number, status, start, duration and error of each. */
export function renderHistory(record: NodeRecord | undefined): SafeHtml | string {
  if (record?.reusedFrom) {
    return html`
      <p
        class="note">Output reused from run <a href="#/runs/${encodeURIComponent(
          record.reusedFrom,
        )}"><code>${record.reusedFrom.slice(0, 8)}</code></a>: not run again.</p>
    `;
  }
  const history = record?.history ?? [];
  if (history.length === 0) return "";
  const rows = history.map((h) => {
    const took = h.finishedAt ? Date.parse(h.finishedAt) - Date.parse(h.startedAt) : undefined;
    return html`
      <tr data-attempt="${h.attempt}">
        <td>${h.attempt}</td>
        <td>${statusBadge(h.status)}</td>
        <td>${timeElement(h.startedAt)}</td>
        <td>${took === undefined ? "—" : formatDuration(took)}</td>
        <td class="attempt-error">${h.error?.message ?? ""}</td>
      </tr>
    `;
  });
  return html`
    <h3>Attempts</h3>
    <table class="attempts">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Status</th>
          <th scope="col">Started</th>
          <th scope="col">Took</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}
