/**
 * The web dashboard of `dev` and `serve` (issue 8): runs list, live run graph with node details
 * and logs, workflow page, start / cancel / re-run, embedded in the binary. server/ wires
 * {@link createDashboard} into createHandler's `dashboard` option.
 *
 * @example
 * ```ts
 * import { createDashboard } from "./mod.ts";
 * import { loadWorkflow } from "../engine/mod.ts";
 * const workflow = await loadWorkflow("examples/hn-digest");
 * const dashboard = createDashboard({ workflow: () => workflow });
 * const page = await dashboard(new Request("http://localhost/"));
 * console.log(page?.headers.get("content-type")); // text/html; charset=utf-8
 * ```
 *
 * @module
 */

export {
  createDashboard,
  type DashboardHandler,
  type DashboardOptions,
  type DashboardRunEvent,
  type SubscribeAll,
} from "./create_dashboard.ts";
export { describeWorkflow, type NodeInfo, type WorkflowInfo } from "./describe_workflow.ts";
export {
  type GraphLayout,
  type LayoutEdge,
  layoutGraph,
  type LayoutInput,
  type LayoutNode,
} from "./layout_graph.ts";
