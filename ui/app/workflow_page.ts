/// <reference lib="dom" />
/**
 * The workflow page: the static DAG before any run, triggers, capabilities per node, version,
 * code hash and input schema.
 *
 * @module
 */

import type { AppContext, PageController } from "./app_context.ts";
import { element, setHtml } from "./dom.ts";
import { bindGraphKeys } from "./graph_keys.ts";
import { renderGraphSvg } from "./graph_svg.ts";
import { html } from "./html.ts";
import type { Route } from "./route.ts";
import { renderInputSchema, renderNodesTable, renderWorkflowSummary } from "./workflow_view.ts";

/** Mounts the workflow page; selecting a node highlights its row in the nodes table. */
export function mountWorkflowPage(
  ctx: AppContext,
  route: Extract<Route, { page: "workflow" }>,
): PageController {
  const info = ctx.info;
  ctx.setLiveState(undefined);
  document.title = `workflow · ${info.name}`;
  ctx.main.innerHTML = html`
    <div id="wf-summary"></div>
    <section class="card" aria-labelledby="wf-graph-title">
      <h2 id="wf-graph-title">Graph</h2>
      <p class="hint">Select a node to find it in the table below; arrow keys move along the edges.</p>
      <div id="graph" class="graph-scroll"></div>
    </section>
    <section class="card" aria-labelledby="wf-nodes-title">
      <h2 id="wf-nodes-title" class="visually-hidden">Nodes</h2>
      <div id="wf-nodes"></div>
    </section>
    <section class="card"
      aria-labelledby="wf-schema-title"><h2 id="wf-schema-title">Input schema</h2>${renderInputSchema(
        info,
      )}<p><a href="#/">Start a run</a></p></section>
  `.value;
  setHtml(element("#wf-summary", ctx.main), renderWorkflowSummary(info));
  const graph = element("#graph", ctx.main);
  const nodes = element("#wf-nodes", ctx.main);

  const render = (selected: string | undefined) => {
    setHtml(
      graph,
      renderGraphSvg(info.layout, { nodes: info.nodes, selected, label: `Graph of ${info.name}` }),
    );
    setHtml(nodes, renderNodesTable(info, selected));
    if (selected !== undefined) {
      nodes.querySelector(`[data-node-row="${CSS.escape(selected)}"]`)?.scrollIntoView({
        block: "nearest",
      });
    }
  };
  render(route.node);
  bindGraphKeys(graph, () => info.layout, (node) => ctx.go({ page: "workflow", node }));

  return {
    update(next) {
      if (next.page !== "workflow") return false;
      render(next.node);
      return true;
    },
  };
}
