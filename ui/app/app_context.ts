/**
 * What every page of the dashboard gets from the shell.
 *
 * @module
 */

import type { WorkflowInfo } from "../describe_workflow.ts";
import type { ApiClient } from "./api_client.ts";
import type { StreamState } from "./follow_stream.ts";
import type { Route } from "./route.ts";

/** The shell's services, valid while the page is shown (`signal` aborts when it is left). */
export interface AppContext {
  client: ApiClient;
  /** The `<main>` element the page renders into. */
  main: HTMLElement;
  /** The workflow as last fetched. */
  info: WorkflowInfo;
  /** Aborted when the user leaves the page: streams close, timers stop. */
  signal: AbortSignal;
  /** Polite screen-reader announcement. */
  announce(text: string): void;
  /** Shows the connection state of the page's live stream in the top bar. */
  setLiveState(state: StreamState | undefined): void;
  /** Navigates (through the location hash). */
  go(route: Route): void;
  /** Shows an error that stops the page (with the message in words). */
  fail(error: unknown): void;
}

/** A mounted page; `update` takes a route change within the same page without remounting. */
export interface PageController {
  /** True when the route was handled in place. */
  update?(route: Route): boolean;
}
