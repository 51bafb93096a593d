/// <reference lib="dom" />
/**
 * The home page: start a run, and the runs list (filtered by status, paged with cursors,
 * updated live from GET api/events).
 *
 * @module
 */

import type { RunRecord } from "../../engine/mod.ts";
import type { RunSummary } from "../../store/mod.ts";
import { ApiError } from "./api_client.ts";
import type { AppContext, PageController } from "./app_context.ts";
import { element, frameScheduler, setHtml } from "./dom.ts";
import { followStream, StreamState } from "./follow_stream.ts";
import { isFinished, shortId } from "./format.ts";
import { html } from "./html.ts";
import type { Route } from "./route.ts";
import { mergeRunIntoPage } from "./run_state.ts";
import {
  matchesSearch,
  renderPager,
  renderRunsFilter,
  renderRunsTable,
  searchParams,
} from "./runs_view.ts";
import { inputErrors, parseInputText, renderStartForm } from "./start_form.ts";

/** Rows per page. */
export const PAGE_SIZE = 50;

/** Cursor of the page before each cursor (for "Newer"); "" is the newest page. */
const newerOf = new Map<string, string>();

/** Mounts the runs page for `route`. */
export function mountRunsPage(
  ctx: AppContext,
  route: Extract<Route, { page: "runs" }>,
): PageController {
  let runs: RunSummary[] = [];
  let nextCursor: string | undefined;
  let loaded = false;
  let formText: string | undefined;
  let formErrors: string[] = [];
  let busy = false;
  const searching = !!(route.q || route.since || route.until);

  ctx.main.innerHTML = html`
    <h1>Runs <span class="muted">of <code>${ctx.info.name}</code> ${ctx.info.version}</span></h1>
    <section class="card" aria-labelledby="start-title">
      <h2 id="start-title">Start a run</h2>
      <div id="start"></div>
    </section>
    <section class="card" aria-labelledby="list-title">
      <div class="section-head">
        <h2 id="list-title">History</h2>
        <form id="filter" class="filter" role="search">${renderRunsFilter(route)}</form>
      </div>
      <p id="runs-message" class="message" role="status"></p>
      <div id="runs-table" class="table-scroll"></div>
      <div id="pager"></div>
    </section>
  `.value;
  const start = element("#start", ctx.main);
  const table = element("#runs-table", ctx.main);
  const pager = element("#pager", ctx.main);
  const message = element("#runs-message", ctx.main);

  const renderForm = () =>
    setHtml(start, renderStartForm(ctx.info, { text: formText, errors: formErrors, busy }));
  const renderList = () => {
    if (!loaded) {
      setHtml(table, html`<p class="muted">Loading runs…</p>`);
      return;
    }
    setHtml(table, renderRunsTable(runs, { now: Date.now(), status: route.status, searching }));
    setHtml(
      pager,
      renderPager({
        status: route.status,
        q: route.q,
        since: route.since,
        until: route.until,
        cursor: route.cursor,
        newerCursor: route.cursor === undefined ? undefined : newerOf.get(route.cursor) ?? "",
        nextCursor,
      }),
    );
  };
  const scheduleList = frameScheduler(renderList);
  renderForm();
  renderList();

  const load = async () => {
    try {
      const page = await ctx.client.listRuns({
        status: route.status,
        ...searchParams(route),
        cursor: route.cursor,
        limit: PAGE_SIZE,
      });
      runs = page.runs;
      nextCursor = page.nextCursor ?? undefined;
      if (nextCursor !== undefined) newerOf.set(nextCursor, route.cursor ?? "");
      loaded = true;
      message.textContent = "";
      renderList();
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error instanceof ApiError && error.status === 400 && route.cursor !== undefined) {
        // A stale or mangled cursor: start over from the newest page.
        ctx.go({
          page: "runs",
          status: route.status,
          q: route.q,
          since: route.since,
          until: route.until,
        });
        return;
      }
      if (error instanceof ApiError && error.status === 401) return;
      message.textContent = `Cannot load runs: ${(error as Error).message}`;
    }
  };

  const onRun = (summary: RunSummary) => {
    const before = runs.find((r) => r.runId === summary.runId);
    if (!before && searching && !matchesSearch(summary, route, Date.now())) return;
    runs = mergeRunIntoPage(runs, summary, {
      status: route.status,
      firstPage: route.cursor === undefined,
      limit: PAGE_SIZE,
    });
    if (before && before.status !== summary.status && isFinished(summary.status)) {
      ctx.announce(`Run ${shortId(summary.runId)} ${summary.status}`);
    }
    if (loaded) scheduleList();
  };

  followStream(ctx.client, ctx.client.allEventsUrl(), {
    onOpen: () => void load(),
    onState: (state) => {
      ctx.setLiveState(state);
      if (state === StreamState.Failed && !loaded) void load();
    },
    onEvent: (event) => {
      if (event.event === "run") onRun(JSON.parse(event.data) as RunSummary);
      else if (event.event === "end") {
        const { nodes: _nodes, ...summary } = JSON.parse(event.data) as RunRecord;
        onRun(summary);
      }
    },
  }, ctx.signal);

  const filterForm = element<HTMLFormElement>("#filter", ctx.main);
  const applyFilter = () => {
    const data = new FormData(filterForm);
    const field = (name: string) => {
      const value = String(data.get(name) ?? "").trim();
      return value === "" ? undefined : value;
    };
    ctx.go({
      page: "runs",
      status: field("status"),
      q: field("q"),
      since: field("since"),
      until: field("until"),
    });
  };
  // The status and dates apply at once; the id search on Enter (or the Search button).
  filterForm.addEventListener("change", (event) => {
    if ((event.target as HTMLElement).id !== "run-search") applyFilter();
  });
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilter();
  });

  start.addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = element<HTMLTextAreaElement>("#run-input", start);
    formText = field.value;
    const parsed = parseInputText(formText);
    if (!parsed.ok) {
      formErrors = [parsed.error];
      renderForm();
      element("#run-input", start).focus();
      return;
    }
    busy = true;
    formErrors = [];
    renderForm();
    try {
      const { runId } = await ctx.client.submit(parsed.value);
      ctx.announce(`Run ${shortId(runId)} started`);
      ctx.go({ page: "run", runId });
    } catch (error) {
      if (ctx.signal.aborted) return;
      busy = false;
      formErrors = error instanceof ApiError
        ? inputErrors(error.body, error.message)
        : [`Cannot start the run: ${(error as Error).message}`];
      renderForm();
      element("#run-input", start).focus();
    }
  });

  return {};
}
