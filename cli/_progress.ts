/**
 * Human-readable progress of a run on stderr: node transitions and `ctx.log` lines.
 *
 * @module
 */

import type { LogLine, NodeRecord } from "../engine/mod.ts";
import { formatElapsed } from "./_output.ts";

/** `[node] info  message {"field":1}` (attempt shown from the second one on). */
export function formatLogLine(line: LogLine): string {
  const who = line.node === undefined
    ? "run"
    : line.attempt !== undefined && line.attempt > 1
    ? `${line.node}#${line.attempt}`
    : line.node;
  const fields = line.fields && Object.keys(line.fields).length > 0
    ? ` ${JSON.stringify(line.fields)}`
    : "";
  return `  [${who}] ${line.level.padEnd(5)} ${line.msg}${fields}`;
}

/**
 * Turns node updates into one line per transition (started, retried, finished), or nothing
 * for updates that change no status.
 */
export function createNodeProgress(): (nodeId: string, node: NodeRecord) => string | undefined {
  const seen = new Map<string, string>();
  return (nodeId, node) => {
    const key = `${node.status}:${node.attempts}`;
    if (seen.get(nodeId) === key) return undefined;
    seen.set(nodeId, key);
    const took = node.durationMs !== undefined ? ` ${formatElapsed(node.durationMs)}` : "";
    switch (node.status) {
      case "running":
        return node.attempts > 1 ? `▶ ${nodeId} (attempt ${node.attempts})` : `▶ ${nodeId}`;
      case "succeeded":
        return `✓ ${nodeId}${took}${node.cached ? " (cached)" : ""}`;
      case "failed":
        return `✗ ${nodeId}${took}: ${node.error?.message ?? "failed"}`;
      case "skipped":
        return `- ${nodeId} skipped`;
      case "cancelled":
        return `■ ${nodeId} cancelled`;
      default:
        return undefined;
    }
  };
}
