/// <reference lib="dom" />
/**
 * The dashboard's browser entry (bundled into ui/dist/app.js by `deno task ui:build`): finds
 * the API, asks for the token when the server wants one, and routes between the pages.
 *
 * @module
 */

import type { WorkflowInfo } from "../describe_workflow.ts";
import { ApiClient, ApiError } from "./api_client.ts";
import type { AppContext, PageController } from "./app_context.ts";
import { announce, element, startDurationTicker } from "./dom.ts";
import { type StreamState } from "./follow_stream.ts";
import { html } from "./html.ts";
import { parseRoute, type Route, routeHref } from "./route.ts";
import { mountRunPage } from "./run_page.ts";
import { mountRunsPage } from "./runs_page.ts";
import { promptForToken, TOKEN_KEY } from "./token_prompt.ts";
import { mountWorkflowPage } from "./workflow_page.ts";

const main = element("#main");
const liveState = element("#live-state");
const signOut = element<HTMLButtonElement>("#sign-out");
const apiBase = new URL(
  document.querySelector<HTMLMetaElement>('meta[name="pipedreamer-api"]')?.content || "./",
  document.baseURI,
);
const dashboardBase = new URL("./", document.baseURI);

let info: WorkflowInfo | undefined;
let page: { abort: AbortController; controller: PageController; kind: Route["page"] } | undefined;
let signingIn = false;
let navigation = 0;

const client = new ApiClient({
  apiBase,
  dashboardBase,
  token: () => sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  onUnauthorized: () => void signIn(true),
});

const LIVE_LABELS: Record<StreamState, string> = {
  live: "● Live",
  reconnecting: "Reconnecting…",
  ended: "",
  failed: "Not live",
};

function setLiveState(state: StreamState | undefined): void {
  liveState.textContent = state === undefined ? "" : LIVE_LABELS[state];
  liveState.dataset.state = state ?? "";
}

function go(route: Route): void {
  const href = routeHref(route);
  if (location.hash === href) void show();
  else location.hash = href;
}

function fail(error: unknown): void {
  page?.abort.abort();
  page = undefined;
  main.innerHTML = html`
    <section class="card">
      <h1>Something went wrong</h1>
      <p role="alert">${(error as Error)?.message ?? String(error)}</p>
      <p><a href="#/">Back to the runs</a></p>
    </section>
  `.value;
}

async function signIn(rejected: boolean): Promise<void> {
  if (signingIn) return;
  signingIn = true;
  page?.abort.abort();
  page = undefined;
  const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
  sessionStorage.removeItem(TOKEN_KEY);
  setLiveState(undefined);
  signOut.hidden = true;
  document.title = "Sign in · Pipedreamer";
  await promptForToken(main, rejected && hadToken);
  signingIn = false;
  await show();
}

function mount(ctx: AppContext, route: Route): PageController {
  switch (route.page) {
    case "runs":
      return mountRunsPage(ctx, route);
    case "run":
      return mountRunPage(ctx, route);
    case "workflow":
      return mountWorkflowPage(ctx, route);
    case "notFound":
      main.innerHTML = html`
        <section class="card">
          <h1>Page not found</h1>
          <p>Nothing lives at <code>${route.path}</code>. <a href="#/">Back to the runs</a></p>
        </section>
      `.value;
      return {};
  }
}

/** Shows the page of the current location (in place when the page supports it). */
async function show(): Promise<void> {
  if (signingIn) return;
  const route = parseRoute(location.hash);
  for (const link of document.querySelectorAll<HTMLAnchorElement>("[data-nav]")) {
    const current = link.dataset.nav === (route.page === "workflow" ? "workflow" : "runs");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (page?.controller.update?.(route)) return;
  const ticket = ++navigation;
  try {
    // Fetched on every page change: `dev` reloads the workflow when its files change.
    info = await client.workflow();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    if (ticket === navigation) fail(error);
    return;
  }
  if (ticket !== navigation || signingIn) return;
  element("#wf-name").textContent = `${info.name} ${info.version}`;
  signOut.hidden = sessionStorage.getItem(TOKEN_KEY) === null;

  const sameKind = page?.kind === route.page;
  const active = document.activeElement;
  const focusKey = active?.closest<HTMLElement>("[data-focus-key]")?.dataset.focusKey;
  const focusId = active?.id;
  page?.abort.abort();
  const abort = new AbortController();
  const ctx: AppContext = {
    client,
    main,
    info,
    signal: abort.signal,
    announce,
    setLiveState,
    go,
    fail,
  };
  if (route.page !== "run") document.title = `${route.page} · ${info.name}`;
  page = { abort, kind: route.page, controller: mount(ctx, route) };
  // Keep the focus on the control that changed the page (filter, pager); otherwise move it to
  // the new page's heading, as a screen reader user expects after following a link.
  const again = !sameKind
    ? null
    : focusId
    ? document.getElementById(focusId)
    : focusKey
    ? main.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)
    : null;
  if (again) again.focus();
  else {
    const heading = main.querySelector<HTMLElement>("h1");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
    globalThis.scrollTo(0, 0);
  }
}

signOut.addEventListener("click", () => void signIn(false));
element(".skip-link").addEventListener("click", () => main.focus());
addEventListener("hashchange", () => void show());
startDurationTicker();
void show();
