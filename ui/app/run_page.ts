/// <reference lib="dom" />
/**
 * The run page: header with Cancel / Re-run, the live DAG, the selected node's details and the
 * run's whole log, all fed by the run's event stream (GET /runs/:id/logs as SSE).
 *
 * @module
 */

import type { RunRecord } from "../../engine/mod.ts";
import type { StoredLogLine } from "../../store/mod.ts";
import { ApiError } from "./api_client.ts";
import type { AppContext, PageController } from "./app_context.ts";
import { element, frameScheduler, setHtml } from "./dom.ts";
import { followStream, StreamState } from "./follow_stream.ts";
import { isFinished, shortId } from "./format.ts";
import { bindGraphKeys } from "./graph_keys.ts";
import { renderGraphSvg } from "./graph_svg.ts";
import { html } from "./html.ts";
import { filterSummary, type LogFilter, logLineMatches, renderLogFilter } from "./log_filter.ts";
import type { Route } from "./route.ts";
import { applyRunEvent, nodeInput, type StreamEvent } from "./run_state.ts";
import { renderLogLine, renderNodeDetail, renderRunData, renderRunHeader } from "./run_view.ts";
import { renderTimelineSvg } from "./timeline_svg.ts";

/** Log lines kept in the page (the oldest are dropped beyond it). */
export const MAX_LOG_LINES = 5000;

/** Mounts the page of run `route.runId`. */
export function mountRunPage(
  ctx: AppContext,
  route: Extract<Route, { page: "run" }>,
): PageController {
  const runId = route.runId;
  let record: RunRecord | undefined;
  let selected = route.node;
  let syncing = true;
  let buffered: StreamEvent[] = [];
  let logs: StoredLogLine[] = [];
  let ended = false;
  let logFilter: LogFilter = {};

  ctx.main.innerHTML = html`
    <div id="run-header" class="run-header">
      <h1>Run <code>${runId}</code></h1>
      <p class="muted">Loading…</p>
    </div>
    <p id="run-message" class="message" role="status"></p>
    <div class="run-body">
      <section class="card graph-panel" aria-labelledby="graph-title">
        <h2 id="graph-title">Graph</h2>
        <p class="hint"
          id="graph-hint">Select a node for its input, output, error and log: click it, or Tab to it and press Enter. Arrow keys move along the edges.</p>
        <div id="graph" class="graph-scroll"></div>
      </section>
      <aside id="node-detail" class="card detail-panel" aria-label="Node details"></aside>
    </div>
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <p
        class="hint">One bar per attempt; hatched bars are waits (before a retry, or for an event or a timer). Hover a bar for its times and error; click a row to select its node.</p>
      <div id="timeline" class="timeline-scroll"></div>
    </section>
    <div id="run-data" class="card"></div>
    <section class="card" aria-labelledby="log-title">
      <div class="section-head">
        <h2 id="log-title">Run log</h2>
        <form id="log-filter" class="filter"></form>
      </div>
      <p id="log-count" class="muted" role="status"></p>
      <ol id="run-log" class="log" aria-describedby="log-title"></ol>
      <p id="log-empty" class="muted">No log lines yet.</p>
    </section>
  `.value;
  const header = element("#run-header", ctx.main);
  const message = element("#run-message", ctx.main);
  const graph = element("#graph", ctx.main);
  const detail = element("#node-detail", ctx.main);
  const runData = element("#run-data", ctx.main);
  const logList = element("#run-log", ctx.main);
  const logEmpty = element("#log-empty", ctx.main);
  const timeline = element("#timeline", ctx.main);
  const logFilterForm = element("#log-filter", ctx.main);
  const logCount = element("#log-count", ctx.main);

  const renderLogCount = () => {
    const shown = logs.filter((line) => logLineMatches(line, logFilter)).length;
    logEmpty.hidden = shown > 0;
    logEmpty.textContent = logs.length === 0
      ? "No log lines yet."
      : "No log lines match the filter.";
    logCount.textContent = filterSummary(shown, logs.length, logFilter);
  };
  const renderLogs = () => {
    setHtml(
      logList,
      html`${
        logs.filter((line) => logLineMatches(line, logFilter)).map((line) =>
          renderLogLine(line, true)
        )
      }`,
    );
    renderLogCount();
    logList.scrollTop = logList.scrollHeight;
  };
  setHtml(logFilterForm, renderLogFilter(ctx.info.nodes.map((n) => n.id), logFilter));
  logFilterForm.addEventListener("submit", (event) => event.preventDefault());
  logFilterForm.addEventListener("change", () => {
    const node = element<HTMLSelectElement>("#log-node", logFilterForm).value;
    const level = element<HTMLSelectElement>("#log-level", logFilterForm).value;
    logFilter = { node: node === "" ? undefined : node, level: level === "" ? undefined : level };
    renderLogs();
  });

  const renderDetail = () => {
    if (!record) return;
    if (selected === undefined) {
      setHtml(
        detail,
        html`
          <h2>Node details</h2>
          <p class="muted">No node selected.</p>
        `,
      );
      return;
    }
    setHtml(
      detail,
      renderNodeDetail(selected, record.nodes[selected], {
        input: nodeInput(ctx.info.nodes, record, selected),
        logs: logs.filter((line) => line.node === selected),
        now: Date.now(),
        rerunFrom: isFinished(record.status) &&
          ctx.info.nodes.some((n) => n.id === selected && !n.onError),
      }),
    );
  };
  const renderTimeline = () => {
    if (!record) return;
    setHtml(
      timeline,
      renderTimelineSvg(record, {
        order: ctx.info.nodes.map((n) => n.id),
        now: Date.now(),
        width: Math.max(640, timeline.clientWidth),
        selected,
        label: `Timeline of run ${shortId(runId)}`,
      }),
    );
  };
  const render = () => {
    if (!record) return;
    setHtml(
      header,
      renderRunHeader(record, { now: Date.now(), currentCodeHash: ctx.info.codeHash }),
    );
    setHtml(
      graph,
      renderGraphSvg(ctx.info.layout, {
        nodes: ctx.info.nodes,
        states: record.nodes,
        selected,
        label: `Graph of run ${shortId(runId)}`,
      }),
    );
    renderTimeline();
    setHtml(runData, renderRunData(record));
    renderDetail();
    document.title = `${record.status} · run ${shortId(runId)} · ${ctx.info.name}`;
  };
  const schedule = frameScheduler(render);

  const apply = (event: StreamEvent) => {
    if (!record) return;
    const before = record;
    record = applyRunEvent(record, event);
    if (record.status !== before.status) ctx.announce(`Run ${shortId(runId)} ${record.status}`);
    if (event.type === "node" && before.nodes[event.nodeId]?.status !== event.node.status) {
      ctx.announce(`Node ${event.nodeId} ${event.node.status}`);
    }
    schedule();
  };

  const addLog = (line: StoredLogLine) => {
    if (logs.length > 0 && line.seq <= logs[logs.length - 1]!.seq) return;
    logs.push(line);
    const atBottom = logList.scrollTop + logList.clientHeight >= logList.scrollHeight - 8;
    if (logs.length > MAX_LOG_LINES) {
      const dropped = logs[0]!;
      logs = logs.slice(-MAX_LOG_LINES);
      if (logLineMatches(dropped, logFilter)) logList.firstElementChild?.remove();
    }
    if (logLineMatches(line, logFilter)) {
      logList.insertAdjacentHTML("beforeend", renderLogLine(line, true).value);
    }
    renderLogCount();
    if (atBottom) logList.scrollTop = logList.scrollHeight;
    if (line.node === selected) schedule();
  };

  const resync = async () => {
    syncing = true;
    try {
      record = await ctx.client.getRun(runId);
    } catch (error) {
      if (!ctx.signal.aborted) showFailure(error);
      return;
    }
    syncing = false;
    const pending = buffered;
    buffered = [];
    for (const event of pending) apply(event);
    render();
  };

  const showFailure = (error: unknown) => {
    if (error instanceof ApiError && error.status === 404) {
      setHtml(
        header,
        html`
          <h1>Run not found</h1>
          <p>There is no run <code>${runId}</code> (it may have been pruned by retention). <a href="#/">Back to the runs</a></p>
        `,
      );
    } else if (!(error instanceof ApiError && error.status === 401)) {
      message.textContent = `Cannot load the run: ${(error as Error).message}`;
    }
  };

  followStream(ctx.client, ctx.client.runEventsUrl(runId), {
    onOpen: () => void resync(),
    onState: (state, error) => {
      ctx.setLiveState(state);
      if (state === StreamState.Failed) showFailure(error);
    },
    isDone: () => ended,
    onEvent: (event) => {
      if (event.event === "log") return addLog(JSON.parse(event.data) as StoredLogLine);
      const data = JSON.parse(event.data);
      const parsed: StreamEvent | undefined = event.event === "node"
        ? { type: "node", runId: data.runId, nodeId: data.nodeId, node: data.node }
        : event.event === "run"
        ? { type: "run", record: data }
        : event.event === "end"
        ? { type: "end", record: data }
        : undefined;
      if (!parsed) return;
      if (parsed.type === "end") ended = true;
      if (syncing) buffered.push(parsed);
      else apply(parsed);
    },
  }, ctx.signal);

  const select = (node: string | undefined) => ctx.go({ page: "run", runId, node });
  bindGraphKeys(graph, () => ctx.info.layout, select);
  timeline.addEventListener("click", (event) => {
    const row = (event.target as Element).closest<SVGElement>("[data-node]");
    if (row?.dataset.node !== undefined) select(row.dataset.node);
  });
  // Open bars (running attempts, waits) grow with the clock while the run is unfinished.
  const ticker = setInterval(() => {
    if (record && !isFinished(record.status)) renderTimeline();
  }, 1000);
  ctx.signal.addEventListener("abort", () => clearInterval(ticker));

  const onAction = async (event: Event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button[data-action]");
    if (!button || !record) return;
    button.disabled = true;
    try {
      if (button.dataset.action === "cancel") {
        message.textContent = "Cancelling…";
        const cancelled = await ctx.client.cancel(runId);
        message.textContent = `Run ${cancelled.status}.`;
        apply(
          isFinished(cancelled.status)
            ? { type: "end", record: cancelled }
            : { type: "run", record: cancelled },
        );
      } else if (button.dataset.action === "approve" || button.dataset.action === "reject") {
        const approved = button.dataset.action === "approve";
        const box = header.querySelector<HTMLTextAreaElement>(
          `textarea[data-approval-comment="${CSS.escape(button.dataset.node ?? "")}"]`,
        );
        const comment = box?.value ?? "";
        message.textContent = approved ? "Approving…" : "Rejecting…";
        const next = await ctx.client.signal(runId, "approval", { approved, comment });
        message.textContent = approved ? "Approved." : "Rejected.";
        apply({ type: "run", record: next });
      } else if (button.dataset.action === "rerun") {
        const { runId: next } = await ctx.client.submit(record.input);
        ctx.announce(`Run ${shortId(next)} started with the same input`);
        ctx.go({ page: "run", runId: next });
      } else if (button.dataset.action === "retry" || button.dataset.action === "retry-from") {
        // POST /runs/:id/retry: a new run that reuses the nodes that succeeded here.
        const from = button.dataset.action === "retry-from" ? button.dataset.node : undefined;
        const started = await ctx.client.retry(runId, from);
        ctx.announce(
          `Run ${shortId(started.runId)} retries this one${from ? ` from ${from}` : ""}` +
            (started.warning ? `: ${started.warning}` : ""),
        );
        ctx.go({ page: "run", runId: started.runId });
      }
    } catch (error) {
      if (ctx.signal.aborted) return;
      message.textContent = error instanceof ApiError
        ? error.message
        : `Cannot do that: ${(error as Error).message}`;
      button.disabled = false;
    }
  };
  header.addEventListener("click", onAction);
  detail.addEventListener("click", onAction);

  return {
    update(next) {
      if (next.page !== "run" || next.runId !== runId) return false;
      selected = next.node;
      render();
      if (selected !== undefined) ctx.announce(`Showing node ${selected}`);
      return true;
    },
  };
}
