/**
 * The durable node keys of SPEC §9–10: `map:`, `workflow:`, `sleep:` and `wait:`, and the DAG
 * rule that a map node has exactly one parent.
 *
 * @module
 */

import type { CompiledNode, ExecutionSettings } from "../workflow_model.ts";
import type { LocatedEntry, SourcePosition } from "./located_types.ts";
import { type Checker, MAX_TIMER_MS } from "./_checker.ts";
import { sha256Hex } from "./_node_files.ts";
import { resolve } from "node:path";

/** What a node is made of: exactly one of these keys. */
export const BODY_KEYS = ["path", "command", "workflow", "sleep", "wait"] as const;
/** One of {@link BODY_KEYS}. */
export type BodyKey = typeof BODY_KEYS[number];

const BODY_HINT =
  "A node is exactly one of: path (module), command (subprocess), workflow (sub-workflow), sleep or wait";
/** Event names travel in URLs (`POST /runs/:id/events/:event`). */
const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Durable keys of one node, compiled into `node`; the positions feed the DAG checks. */
export interface DurableKeys {
  /** Position of each map node's `map:` key. */
  mapKeys: Map<string, SourcePosition>;
  /** Position of each sub-workflow node's `workflow:` value. */
  workflowKeys: Map<string, SourcePosition>;
}

/** Reports a node that has more than one body key; returns the body key it has, if one. */
export function checkBody(
  checker: Checker,
  id: string,
  keys: ReadonlyMap<string, LocatedEntry>,
): BodyKey | undefined {
  const present = BODY_KEYS.filter((key) => keys.has(key));
  if (present.length <= 1) return present[0];
  const [first, second] = present as [BodyKey, BodyKey];
  checker.report(
    keys.get(second)!.keyPos,
    `Node "${id}" has both ${first} and ${second}`,
    first === "path" && second === "command"
      ? "Keep path: for a TypeScript module or command: for a subprocess, not both"
      : BODY_HINT,
  );
  return undefined;
}

/** Compiles `workflow:`, `sleep:`, `wait:` and `map:` of `node` (declared in `keys`). */
export function compileDurable(
  checker: Checker,
  node: CompiledNode,
  keys: ReadonlyMap<string, LocatedEntry>,
  context: { dir: string; settings: ExecutionSettings; durable: DurableKeys },
): void {
  const id = node.id;
  const workflow = keys.get("workflow");
  if (workflow) {
    node.kind = "workflow";
    const path = checker.string(workflow, { nonEmpty: true, example: "../other-workflow" });
    if (path !== undefined) {
      node.workflow = resolve(context.dir, path);
      node.codeHash = sha256Hex(`workflow\0${path}`);
      context.durable.workflowKeys.set(id, workflow.value.pos);
      if (node.workflow === context.dir) {
        checker.report(
          workflow.value.pos,
          `Cycle: node "${id}" runs its own workflow`,
          "Point workflow: at another workflow directory, e.g. ../enrich-user",
        );
      }
    }
  }
  const sleep = keys.get("sleep");
  if (sleep) {
    node.kind = "sleep";
    node.sleepMs = checker.duration(sleep, { min: 1, max: MAX_TIMER_MS }) ?? 1;
    node.codeHash = sha256Hex(`sleep\0${node.sleepMs}`);
  }
  const wait = keys.get("wait");
  if (wait) compileWait(checker, node, wait);
  const map = keys.get("map");
  if (map) {
    context.durable.mapKeys.set(id, map.keyPos);
    if (sleep || wait) {
      checker.report(
        map.keyPos,
        `Node "${id}" cannot map a ${sleep ? "sleep" : "wait"}`,
        "Map a code node or a sub-workflow (path:, command: or workflow:), or remove map:",
      );
    }
    compileMap(checker, node, map, context.settings);
  }
}

function compileWait(checker: Checker, node: CompiledNode, entry: LocatedEntry): void {
  node.kind = "wait";
  node.wait = { event: "" };
  const example = "Write wait: { event: approval, timeout: 48h }";
  const map = checker.map(entry.value, `"wait" of node "${node.id}"`, example);
  if (!map) return;
  const keys = checker.keys(map, ["event", "timeout"] as const, "wait key");
  const event = keys.get("event");
  if (!event) {
    checker.report(map.pos, `Wait node "${node.id}" has no event`, example);
  } else {
    const name = checker.string(event, { nonEmpty: true, example: "approval" });
    if (name !== undefined && !EVENT_NAME.test(name)) {
      checker.report(
        event.value.pos,
        `Invalid event name "${name}"`,
        "Use letters, digits, '-', '_' and '.' (it appears in /runs/:id/events/:event), e.g. approval",
      );
    } else if (name !== undefined) node.wait.event = name;
  }
  const timeout = keys.get("timeout");
  if (timeout) {
    const ms = checker.duration(timeout, { min: 1, max: MAX_TIMER_MS });
    if (ms !== undefined) node.wait.timeoutMs = ms;
  }
  node.codeHash = sha256Hex(`wait\0${JSON.stringify(node.wait)}`);
}

function compileMap(
  checker: Checker,
  node: CompiledNode,
  entry: LocatedEntry,
  settings: ExecutionSettings,
): void {
  const example = "Write map: { over: items, concurrency: 8 }";
  node.map = { over: ".", concurrency: settings.maxParallel };
  const map = checker.map(entry.value, `"map" of node "${node.id}"`, example);
  if (!map) return;
  const keys = checker.keys(map, ["over", "concurrency"] as const, "map key");
  const over = keys.get("over");
  if (!over) {
    checker.report(
      map.pos,
      `Map node "${node.id}" has no "over"`,
      'Name the parent\'s output field holding the array, e.g. map: { over: items } (or over: "." for the output itself)',
    );
  } else {
    const field = checker.string(over, { nonEmpty: true, example: "items" });
    if (field !== undefined) node.map.over = field;
  }
  const concurrency = keys.get("concurrency");
  if (concurrency) {
    node.map.concurrency = checker.int(concurrency, { min: 1, max: 100_000, example: 8 }) ??
      node.map.concurrency;
  }
}

/** SPEC §9: a map node has exactly one parent; the onError node cannot map. */
export function checkMapParents(
  checker: Checker,
  durable: DurableKeys,
  parents: Record<string, string[]>,
  onError: string | undefined,
): void {
  for (const [id, pos] of durable.mapKeys) {
    if (id === onError) {
      checker.report(
        pos,
        `The onError node "${id}" cannot map`,
        "Remove map: from the onError node; it runs once with { runId, failedNode, error, input }",
      );
      continue;
    }
    const count = parents[id]?.length ?? 0;
    if (count === 1) continue;
    checker.report(
      pos,
      `Map node "${id}" has ${count === 0 ? "no parent" : `${count} parents`}`,
      count === 0
        ? `Add an edge from the node whose output holds the array, e.g. - { from: list, to: ${id} }`
        : "A map node maps one parent's output: keep one edge into it (join the others in a node before it)",
    );
  }
}
