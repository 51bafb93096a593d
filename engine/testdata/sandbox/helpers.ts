/**
 * Test helpers for the node runners: compiled workflows and calls built by hand over the nodes
 * of this directory.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Capabilities, CompiledNode, CompiledWorkflow } from "../../workflow_model.ts";
import type { LogLine } from "../../run_record.ts";
import type { FetchMock, K8sAccess, NodeCall } from "../../runner_protocol.ts";

/** This directory: the workflow directory of the test nodes. */
export const sandboxDir = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");

/** A module node of `nodes/<file>.ts` (or of `path`). */
export function moduleNode(
  id: string,
  file: string,
  options: {
    net?: string[];
    k8s?: unknown;
    codeHash?: string;
    timeoutMs?: number;
    path?: string;
    /** `capabilities.secrets`. */
    secrets?: string[];
    memoryMiB?: number;
    isolation?: "run";
  } = {},
): CompiledNode {
  const caps = capabilities({ net: options.net });
  if (options.k8s !== undefined) caps.k8s = options.k8s;
  if (options.secrets !== undefined) caps.secrets = options.secrets;
  return {
    id,
    kind: "module",
    path: options.path ?? `${sandboxDir}/nodes/${file}.ts`,
    capabilities: caps,
    timeoutMs: options.timeoutMs ?? 30_000,
    retries: 0,
    allowFailure: false,
    codeHash: options.codeHash ?? `${file}-v1`,
    ...(options.memoryMiB !== undefined ? { memoryMiB: options.memoryMiB } : {}),
    ...(options.isolation !== undefined ? { isolation: options.isolation } : {}),
  };
}

/** A command node. */
export function commandNode(
  id: string,
  command: string[],
  options: { run?: string[]; timeoutMs?: number } = {},
): CompiledNode {
  return {
    id,
    kind: "command",
    command,
    capabilities: capabilities({ run: options.run }),
    timeoutMs: options.timeoutMs ?? 30_000,
    retries: 0,
    allowFailure: false,
    codeHash: command.join(" "),
  };
}

function capabilities(options: { net?: string[]; run?: string[] }): Capabilities {
  return { net: options.net ?? [], run: options.run ?? [] };
}

/** A workflow of `nodes` without edges, unless `children` declares some. */
export function workflowOf(
  nodes: CompiledNode[],
  options: {
    dir?: string;
    services?: Record<string, string>;
    children?: Record<string, string[]>;
  } = {},
): CompiledWorkflow {
  const ids = nodes.map((n) => n.id);
  const children: Record<string, string[]> = {};
  const parents: Record<string, string[]> = {};
  for (const id of ids) {
    children[id] = options.children?.[id] ?? [];
    parents[id] = [];
  }
  const edges = Object.entries(children).flatMap(([from, tos]) => tos.map((to) => ({ from, to })));
  for (const { from, to } of edges) (parents[to] ??= []).push(from);
  return {
    name: "sandbox-test",
    version: "1.0.0",
    dir: options.dir ?? sandboxDir,
    file: `${options.dir ?? sandboxDir}/workflow.yaml`,
    triggers: [{ type: "manual" }],
    services: options.services ?? {},
    nodes: Object.fromEntries(nodes.map((n) => [n.id, n])),
    order: ids,
    edges,
    parents,
    children,
    roots: ids.filter((id) => parents[id]?.length === 0),
    sinks: ids.filter((id) => children[id]?.length === 0),
    config: {},
    settings: {
      timeoutMs: 30_000,
      retries: 0,
      failFast: true,
      maxParallel: 16,
      backoffMs: 200,
      maxBackoffMs: 30_000,
    },
    codeHash: "test",
  };
}

/** A call and what it reported. */
export interface TestCall {
  call: NodeCall;
  logs: LogLine[];
  progress: { value: number; message?: string }[];
  /** Resolves with the first log line whose message is `msg` (already logged or not). */
  logged(msg: string): Promise<LogLine>;
}

/** A call of node `nodeId` of `workflow`. */
export function callOf(
  workflow: CompiledWorkflow,
  nodeId: string,
  options: {
    input?: unknown;
    tmpDir?: string;
    attempt?: number;
    runId?: string;
    config?: Record<string, unknown>;
    secrets?: Record<string, unknown>;
    fetchMock?: FetchMock;
    k8s?: K8sAccess;
  } = {},
): TestCall {
  const node = workflow.nodes[nodeId];
  if (!node) throw new TypeError(`no node "${nodeId}"`);
  const logs: LogLine[] = [];
  const progress: { value: number; message?: string }[] = [];
  const waiters: { msg: string; resolve(line: LogLine): void }[] = [];
  const call: NodeCall = {
    workflow,
    node,
    input: options.input ?? null,
    runId: options.runId ?? "run-1",
    attempt: options.attempt ?? 1,
    config: options.config ?? {},
    secrets: options.secrets ?? {},
    // Not created: tests that write pass a real temp dir.
    tmpDir: options.tmpDir ?? "/tmp/pipedreamer-test-unused",
    onLog(line) {
      logs.push(line);
      for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
    },
    onProgress: (value, message) => progress.push({ value, message }),
    fetchMock: options.fetchMock,
  };
  if (options.k8s) call.k8s = options.k8s;
  return {
    call,
    logs,
    progress,
    logged(msg) {
      const line = logs.find((l) => l.msg === msg);
      if (line) return Promise.resolve(line);
      return new Promise((resolve) => waiters.push({ msg, resolve }));
    },
  };
}
