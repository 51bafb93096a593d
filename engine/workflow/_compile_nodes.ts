/**
 * `nodes:` → compiled nodes: kind (module or command), capabilities, per-node settings with
 * the workflow defaults applied, and the code hash.
 *
 * @module
 */

import type { Capabilities, CompiledNode, ExecutionSettings } from "../workflow_model.ts";
import type { LocatedEntry, LocatedMap, SourcePosition } from "./located_types.ts";
import { type Checker, MAX_TIMER_MS } from "./_checker.ts";
import { toPlain } from "./_located.ts";
import { checkNodeId } from "./_names.ts";
import { checkNetHost } from "./_net.ts";
import { checkBody, compileDurable, type DurableKeys } from "./_compile_durable.ts";
import { compileIsolation, compileLimits, DEFAULT_MEMORY_MIB } from "./_compile_limits.ts";
import {
  commandCodeHash,
  hasDefaultExport,
  MODULE_EXTENSION,
  resolveInside,
  sha256Hex,
} from "./_node_files.ts";

const NODE_KEYS = [
  "path",
  "command",
  "description",
  "capabilities",
  "timeout",
  "retries",
  "allowFailure",
  "cache",
  "map",
  "workflow",
  "sleep",
  "wait",
  "recordFetch",
  "limits",
  "isolation",
] as const;

const DEPENDENCY_HINT = "Declare dependencies under edges:, e.g. - { from: <parent>, to: <node> }";
const NODE_MISPLACED: Record<string, string> = {
  dependsOn: DEPENDENCY_HINT,
  depends_on: DEPENDENCY_HINT,
  needs: DEPENDENCY_HINT,
  after: DEPENDENCY_HINT,
  next: DEPENDENCY_HINT,
  net: "Move it under capabilities:, e.g. capabilities: { net: api.github.com }",
  run: "Move it under capabilities:, e.g. capabilities: { run: [python3] }",
  file: "Write path: ./nodes/<id>.ts",
  module: "Write path: ./nodes/<id>.ts",
  script: "Write command: [<program>, ./nodes/<script>] and capabilities: { run: [<program>] }",
  config: "Put settings under the top-level config:; every node sees it as ctx.config",
  env: "Nodes get no environment; use config: or secrets",
};

const CAPABILITY_KEYS = ["net", "run", "k8s", "secrets"] as const;
const FS_HINT = "Nodes read the workflow directory and write only ctx.tmpDir; no grant is needed";
const CAPABILITY_MISPLACED: Record<string, string> = {
  env: "Nodes get no environment; use config: or secrets",
  read: FS_HINT,
  write: FS_HINT,
  fs: FS_HINT,
};

/** What node compilation needs from the workflow. */
export interface NodeContext {
  dir: string;
  sources: ReadonlyMap<string, string>;
  settings: ExecutionSettings;
}

/** Compiled nodes in declaration order, with the position of each id. */
export interface CompiledNodes {
  nodes: Map<string, CompiledNode>;
  positions: Map<string, SourcePosition>;
  /** Positions of the durable keys, for the DAG checks. */
  durable: DurableKeys;
}

/** Compiles the `nodes:` map; invalid nodes are still listed so edges to them resolve. */
export function compileNodes(checker: Checker, nodes: LocatedMap, context: NodeContext) {
  const result: CompiledNodes = {
    nodes: new Map(),
    positions: new Map(),
    durable: { mapKeys: new Map(), workflowKeys: new Map() },
  };
  const hashes = new Map<string, string>();
  for (const entry of nodes.entries) {
    const problem = checkNodeId(entry.key);
    if (problem) checker.report(entry.keyPos, problem.message, problem.hint);
    result.positions.set(entry.key, entry.keyPos);
    const node = compileNode(checker, entry, context, hashes, result.durable);
    result.nodes.set(entry.key, node);
  }
  return result;
}

function compileNode(
  checker: Checker,
  entry: LocatedEntry,
  context: NodeContext,
  hashes: Map<string, string>,
  durable: DurableKeys,
): CompiledNode {
  const id = entry.key;
  const { settings } = context;
  const node: CompiledNode = {
    id,
    kind: "module",
    capabilities: { net: [], run: [] },
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    allowFailure: false,
    codeHash: "",
    memoryMiB: settings.memoryMiB ?? DEFAULT_MEMORY_MIB,
  };
  const map = checker.map(entry.value, `node "${id}"`, `Write ${id}: { path: ./nodes/${id}.ts }`);
  if (!map) return node;
  const keys = checker.keys(map, NODE_KEYS, "node key", NODE_MISPLACED);
  const path = keys.get("path");
  const command = keys.get("command");
  const body = checkBody(checker, id, keys);
  if (!path && !command && !keys.has("workflow") && !keys.has("sleep") && !keys.has("wait")) {
    checker.report(
      entry.keyPos,
      `Node "${id}" has neither path nor command`,
      `Add path: ./nodes/${id}.ts (or command: [<program>, <args>] for a subprocess, ` +
        "workflow: ../other for a sub-workflow, sleep: 10m or wait: { event: approval })",
    );
  }
  const capabilities = keys.get("capabilities");
  if (capabilities) node.capabilities = compileCapabilities(checker, capabilities);
  if (path && body !== undefined) compileModulePath(checker, node, path, context, hashes);
  else if (command && body !== undefined) {
    compileCommand(checker, node, command, capabilities, context);
  }
  const durableKeys = body === undefined
    ? new Map([...keys].filter(([key]) => key === "map"))
    : keys;
  compileDurable(checker, node, durableKeys, { ...context, durable });

  const description = keys.get("description");
  if (description) checker.string(description);
  const timeout = keys.get("timeout");
  if (timeout) node.timeoutMs = checker.duration(timeout, { min: 1, max: MAX_TIMER_MS }) ?? 0;
  const retries = keys.get("retries");
  if (retries) node.retries = checker.int(retries, { min: 0, max: 100, example: 2 }) ?? 0;
  const allowFailure = keys.get("allowFailure");
  if (allowFailure) node.allowFailure = checker.bool(allowFailure) ?? false;
  const recordFetch = keys.get("recordFetch");
  if (recordFetch && checker.bool(recordFetch) === true) node.recordFetch = true;
  const cache = keys.get("cache");
  if (cache) {
    const cacheMs = checker.duration(cache, { min: 1 });
    if (cacheMs !== undefined) node.cacheMs = cacheMs;
  }
  const limits = keys.get("limits");
  const memoryMiB = limits && compileLimits(checker, limits);
  if (memoryMiB !== undefined) node.memoryMiB = memoryMiB;
  const isolation = keys.get("isolation");
  if (isolation && compileIsolation(checker, isolation) === "run") node.isolation = "run";
  return node;
}

function compileModulePath(
  checker: Checker,
  node: CompiledNode,
  entry: LocatedEntry,
  { dir, sources }: NodeContext,
  hashes: Map<string, string>,
): void {
  const path = checker.string(entry, { nonEmpty: true, example: `./nodes/${node.id}.ts` });
  if (path === undefined) return;
  const { absolute, rel } = resolveInside(dir, path);
  const pos = entry.value.pos;
  node.path = absolute;
  if (rel === undefined || rel === "") {
    checker.report(
      pos,
      `Node file "${path}" is outside the workflow directory`,
      `Move it into the workflow directory, e.g. ./nodes/${node.id}.ts`,
    );
    return;
  }
  if (!MODULE_EXTENSION.test(path)) {
    checker.report(
      pos,
      `Node file "${path}" is not a TypeScript or JavaScript module`,
      `Run other programs as a subprocess node: command: [<program>, ./${rel}]`,
    );
    return;
  }
  const content = sources.get(absolute);
  if (content === undefined) {
    checker.report(
      pos,
      `Node file not found: ${rel}`,
      `Create ${rel} with \`export default async function run(ctx, input) { … }\`, or fix the path`,
    );
    return;
  }
  if (!hasDefaultExport(content)) {
    checker.report(
      { line: 1, column: 1 },
      `Node module "${rel}" has no default export`,
      "Add `export default async function run(ctx, input) { … }`",
      rel,
    );
  }
  let hash = hashes.get(absolute);
  if (hash === undefined) hashes.set(absolute, hash = sha256Hex(content));
  node.codeHash = hash;
}

function compileCommand(
  checker: Checker,
  node: CompiledNode,
  entry: LocatedEntry,
  capabilities: LocatedEntry | undefined,
  { dir, sources }: NodeContext,
): void {
  node.kind = "command";
  const value = entry.value;
  if (value.kind === "scalar" && typeof value.value === "string") {
    const argv = value.value.trim().split(/\s+/).join(", ");
    checker.report(
      value.pos,
      'Expected a list for "command"',
      `Write it as a list: command: [${argv}]`,
    );
    return;
  }
  const argv = checker.stringList(entry, { example: `[python3, ./nodes/${node.id}.py]` });
  if (!argv) return;
  if (argv.length === 0) {
    checker.report(
      value.pos,
      '"command" must not be empty',
      `Write e.g. command: [python3, ./nodes/${node.id}.py]`,
    );
    return;
  }
  node.command = argv.map((arg) => arg.value);
  node.codeHash = commandCodeHash(node.command, dir, sources);
  const program = node.command[0]!;
  if (!node.capabilities.run.includes(program)) {
    const hint = capabilities
      ? `Add "${program}" to capabilities.run`
      : `Add capabilities: { run: [${program}] }`;
    checker.report(
      argv[0]!.node.pos,
      `Command node "${node.id}" runs "${program}" but capabilities.run does not allow it`,
      hint,
    );
  }
}

function compileCapabilities(checker: Checker, entry: LocatedEntry): Capabilities {
  const capabilities: Capabilities = { net: [], run: [] };
  const map = checker.map(
    entry.value,
    "capabilities",
    "Write e.g. capabilities: { net: api.github.com }",
  );
  if (!map) return capabilities;
  const keys = checker.keys(map, CAPABILITY_KEYS, "capability", CAPABILITY_MISPLACED);
  const net = keys.get("net");
  const hosts = net && checker.stringList(net, { allowString: true, example: "[api.github.com]" });
  for (const host of hosts ?? []) {
    const checked = checkNetHost(host.value);
    if (typeof checked === "string") {
      if (!capabilities.net.includes(checked)) capabilities.net.push(checked);
    } else {
      checker.report(host.node.pos, checked.message, checked.hint);
    }
  }
  const run = keys.get("run");
  const programs = run && checker.stringList(run, { allowString: true, example: "[python3]" });
  for (const program of programs ?? []) {
    if (/\s/.test(program.value)) {
      checker.report(
        program.node.pos,
        `Executable "${program.value}" contains whitespace`,
        "List executables only; arguments belong in command:",
      );
    } else if (!capabilities.run.includes(program.value)) {
      capabilities.run.push(program.value);
    }
  }
  const k8s = keys.get("k8s");
  if (k8s) capabilities.k8s = toPlain(k8s.value);
  const secrets = keys.get("secrets");
  const services = secrets &&
    checker.stringList(secrets, { allowString: true, example: "[github]" });
  if (services) capabilities.secrets = [...new Set(services.map((s) => s.value))];
  return capabilities;
}
