/**
 * The workflow page: version, code hash, triggers, nodes with their capabilities and limits, and
 * the input schema (pure markup builders; the graph is drawn by graph_svg.ts).
 *
 * @module
 */

import type { Trigger } from "../../engine/mod.ts";
import type { NodeInfo, WorkflowInfo } from "../describe_workflow.ts";
import { formatDuration, formatJson } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

/** A trigger in words: "manual", "cron 0 8 * * * (Europe/Paris)", "queue events.push (stream X)". */
export function describeTrigger(trigger: Trigger): string {
  switch (trigger.type) {
    case "manual":
      return "manual (CLI, HTTP API, this dashboard)";
    case "cron":
      return `cron ${trigger.schedule}${trigger.timezone ? ` (${trigger.timezone})` : " (UTC)"}`;
    case "queue": {
      const extras = [
        trigger.stream ? `stream ${trigger.stream}` : "",
        trigger.maxConcurrency ? `max ${trigger.maxConcurrency} at once` : "",
      ].filter((e) => e !== "");
      return `queue ${trigger.subject}${extras.length > 0 ? ` (${extras.join(", ")})` : ""}`;
    }
    default:
      return (trigger as { type: string }).type;
  }
}

/** The capabilities of a node in words; "none" for a node that may do nothing privileged. */
export function describeCapabilities(node: NodeInfo): string {
  const parts = [];
  if (node.capabilities.net.length > 0) parts.push(`net: ${node.capabilities.net.join(", ")}`);
  if (node.capabilities.run.length > 0) parts.push(`run: ${node.capabilities.run.join(", ")}`);
  if (node.capabilities.k8s) parts.push("k8s");
  const secrets = node.capabilities.secrets ?? [];
  if (secrets.length > 0) parts.push(`secrets: ${secrets.join(", ")}`);
  return parts.length > 0 ? parts.join("; ") : "none";
}

/** A module node's sandbox limits: heap limit and isolation; "—" for a command node. */
export function describeSandbox(node: NodeInfo): string {
  if (node.memoryMiB === undefined) return "—";
  const memory = node.memoryMiB % 1024 === 0 ? `${node.memoryMiB / 1024}Gi` : `${node.memoryMiB}Mi`;
  return node.isolation === "run" ? `${memory}, fresh per run` : memory;
}

/** Name, version, description, code hash, triggers and concurrency. */
export function renderWorkflowSummary(info: WorkflowInfo): SafeHtml {
  const concurrency = info.concurrency
    ? `${info.concurrency.maxRuns} at once, ${info.concurrency.queueLimit} queued (${info.concurrency.strategy})`
    : "default";
  return html`
    <h1>Workflow <code>${info.name}</code></h1>${info.description
      ? html`<p class="lead">${info.description}</p>`
      : ""}<dl class="facts">
      <div>
        <dt>Version</dt>
        <dd>${info.version}</dd>
      </div>
      <div>
        <dt>Code hash</dt>
        <dd><code class="hash">${info.codeHash}</code></dd>
      </div>
      <div>
        <dt>Nodes</dt>
        <dd>${info.nodes.length}</dd>
      </div>
      <div>
        <dt>Concurrency</dt>
        <dd>${concurrency}</dd>
      </div>
    </dl><h2>Triggers</h2><ul class="triggers">${info.triggers.map((t) =>
      html`<li>${describeTrigger(t)}</li>`
    )}</ul>
  `;
}

/** Every node with kind, capabilities, memory limit, timeout, retries, failure policy, cache and code hash. */
export function renderNodesTable(info: WorkflowInfo, selected?: string): SafeHtml {
  const rows = info.nodes.map((node) =>
    html`
      <tr data-node-row="${node.id}" ${selected === node.id
        ? html`
          class="selected"
        `
        : ""}>
        <th scope="row"><code>${node.id}</code>${node.onError ? " (onError)" : ""}</th>
        <td>${node.kind === "command"
          ? html`subprocess <code>${(node.command ?? []).join(" ")}</code>`
          : html`module <code>${node.file ?? ""}</code>`}</td>
        <td>${describeCapabilities(node)}</td>
        <td>${describeSandbox(node)}</td>
        <td>${formatDuration(node.timeoutMs)}</td>
        <td>${node.retries}</td>
        <td>${node.allowFailure ? "allowed" : "fails the run"}</td>
        <td>${node.cacheMs !== undefined ? formatDuration(node.cacheMs) : "—"}</td>
        <td><code title="${node.codeHash}">${node.codeHash.slice(0, 12)}</code></td>
      </tr>
    `
  );
  return html`
    <div class="table-scroll">
      <table class="nodes">
        <caption>Nodes</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Kind</th>
            <th scope="col">Capabilities</th>
            <th scope="col">Memory</th>
            <th scope="col">Timeout</th>
            <th scope="col">Retries</th>
            <th scope="col">Failure</th>
            <th scope="col">Cache</th>
            <th scope="col">Code</th>
          </tr>
        </thead>
        <tbody>${rows}</tbody>
      </table>
    </div>
  `;
}

/** The input schema, or a note that any JSON input is accepted. */
export function renderInputSchema(info: WorkflowInfo): SafeHtml {
  return info.inputSchema === undefined
    ? html`<p class="muted">No inputSchema: any JSON input is accepted.</p>`
    : html`<pre>${formatJson(info.inputSchema)}</pre>`;
}
