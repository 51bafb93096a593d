/**
 * Pure state transitions of the live views: a run record updated by its event stream, the runs
 * list updated by the all-runs stream, and the input a node received (derived from its parents'
 * records exactly as the executor builds it, SPEC §3).
 *
 * @module
 */

import type { NodeRecord, RunRecord } from "../../engine/mod.ts";
import type { RunSummary } from "../../store/mod.ts";
import type { NodeInfo } from "../describe_workflow.ts";
import { FINISHED } from "./format.ts";

/** An event of `GET /runs/:id/logs` (SSE) or `GET /api/events`, parsed. */
export type StreamEvent =
  | { type: "node"; runId: string; nodeId: string; node: NodeRecord }
  | { type: "run"; record: RunSummary }
  | { type: "end"; record: RunRecord };

/**
 * `record` with `event` applied (a new object; `record` is not changed). Events of other runs
 * are ignored, and so are node and run events once the run has finished: a finished run never
 * runs again, so such an event is stale (say the answer to an approval that arrives after the
 * stream's end event) and must not make the run look live.
 */
export function applyRunEvent(record: RunRecord, event: StreamEvent): RunRecord {
  if (event.type !== "end" && FINISHED.includes(record.status)) return record;
  switch (event.type) {
    case "node":
      if (event.runId !== record.runId) return record;
      return { ...record, nodes: { ...record.nodes, [event.nodeId]: event.node } };
    case "run":
      if (event.record.runId !== record.runId) return record;
      return { ...record, ...event.record, nodes: record.nodes };
    case "end":
      if (event.record.runId !== record.runId) return record;
      return event.record;
  }
}

/** Options of {@link mergeRunIntoPage}. */
export interface MergeOptions {
  /** The list's status filter. @default undefined (every status) */
  status?: string;
  /** Whether the list shows the newest page (only there do new runs appear). @default true */
  firstPage?: boolean;
  /** Page size: the list never grows beyond it. @default 50 */
  limit?: number;
}

/**
 * The runs list after a change of `run`: an entry is updated in place, dropped when it no longer
 * matches the status filter, and a new matching run is added on top of the first page.
 */
export function mergeRunIntoPage(
  runs: readonly RunSummary[],
  run: RunSummary,
  options: MergeOptions = {},
): RunSummary[] {
  const matches = options.status === undefined || options.status.split(",").includes(run.status);
  const index = runs.findIndex((r) => r.runId === run.runId);
  if (index !== -1) {
    const next = [...runs];
    if (matches) next[index] = { ...runs[index]!, ...run };
    else next.splice(index, 1);
    return next;
  }
  if (!matches || options.firstPage === false) return [...runs];
  return [run, ...runs].slice(0, options.limit ?? 50);
}

/** What {@link nodeInput} found. */
export type DerivedInput = { known: true; value: unknown } | { known: false; reason: string };

/** What a parent hands its children: the output, or `{ error }` after an allowed failure. */
function fires(
  record: NodeRecord | undefined,
  parent: NodeInfo | undefined,
  child: string,
): boolean {
  if (!record) return false;
  const ok = record.status === "succeeded" ||
    (record.status === "failed" && !!parent?.allowFailure);
  return ok && (record.routes === undefined || record.routes.includes(child));
}

function handedOver(record: NodeRecord): unknown {
  return record.status === "failed"
    ? { error: { message: record.error?.message ?? "" } }
    : record.output;
}

/**
 * The input node `nodeId` received in `record`: the run input for a root, the parent's output
 * for one parent, `{ [parent]: output }` of the parents that fired for several, and
 * `{ runId, failedNode, error, input }` for the onError node.
 *
 * @param nodes The workflow's nodes (from GET /api/workflow).
 */
export function nodeInput(
  nodes: readonly NodeInfo[],
  record: RunRecord,
  nodeId: string,
): DerivedInput {
  const info = nodes.find((n) => n.id === nodeId);
  const rec = record.nodes[nodeId];
  if (!info) return { known: false, reason: "the node is not in the current workflow version" };
  if (!rec || rec.status === "pending") return { known: false, reason: "the node has not started" };
  if (rec.status === "skipped") return { known: false, reason: "skipped nodes receive no input" };
  if (info.onError) {
    if (!record.error) return { known: false, reason: "the run has not recorded its failure yet" };
    return {
      known: true,
      value: {
        runId: record.runId,
        failedNode: record.error.node,
        error: { message: record.error.message },
        input: record.input,
      },
    };
  }
  if (info.parents.length === 0) return { known: true, value: record.input };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  if (info.parents.length === 1) {
    const parent = record.nodes[info.parents[0]!];
    if (!parent || !fires(parent, byId.get(info.parents[0]!), nodeId)) {
      return { known: false, reason: "its parent's output is not recorded" };
    }
    return { known: true, value: handedOver(parent) };
  }
  const value: Record<string, unknown> = {};
  for (const id of info.parents) {
    const parent = record.nodes[id];
    if (parent && fires(parent, byId.get(id), nodeId)) value[id] = handedOver(parent);
  }
  return { known: true, value };
}
