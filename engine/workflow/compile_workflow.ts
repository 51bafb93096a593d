/**
 * `compileWorkflow()`: the located tree of `parseWorkflow()` → a validated
 * {@link CompiledWorkflow} with its DAG. Pure: the node files come in as `sources`.
 *
 * Defaults: triggers `[{ type: manual }]`; settings from `config:` (timeout 30s, retries 1,
 * failFast true, maxParallel 16, backoff 200ms, maxBackoff 30s); `concurrency` is always set
 * (maxRuns 10, queueLimit 100, strategy append, startDelay 0) so dev and serve share one
 * default; `retention` only when declared; queue `durable` = the workflow name and
 * `deadLetter` = `<subject>.dlq` when `stream` is set.
 *
 * @module
 */

import { isAbsolute, relative, resolve } from "node:path";
import { createHash } from "node:crypto";
import type { CompiledNode, CompiledWorkflow } from "../workflow_model.ts";
import { WorkflowSyntaxError } from "../errors.ts";
import type { LocatedEntry } from "./located_types.ts";
import type { ParsedWorkflow } from "./parse_workflow.ts";
import { Checker } from "./_checker.ts";
import { describe, toPlain } from "./_located.ts";
import { checkWorkflowName } from "./_names.ts";
import { normaliseVersion, suggestVersion } from "./_semver.ts";
import { compileNodes } from "./_compile_nodes.ts";
import { compileDag } from "./_compile_dag.ts";
import { compileTriggers } from "./_compile_triggers.ts";
import { compileWebhooks } from "./_compile_webhooks.ts";
import {
  compileConcurrency,
  compileRetention,
  compileServices,
  compileSettings,
} from "./_compile_settings.ts";
import { compileInputSchema } from "./_compile_input_schema.ts";
import { closest } from "./_suggest.ts";
import { isInside } from "./_node_files.ts";

/** Options of {@link compileWorkflow}. */
export interface CompileWorkflowOptions {
  /** The workflow directory; node paths resolve against it. */
  dir: string;
  /** Absolute node file path → content; a node whose path is missing here is "not found". */
  sources: ReadonlyMap<string, string>;
  /** The workflow.yaml text hashed into `codeHash`. @default parsed.text */
  workflowText?: string;
}

const TOP_KEYS = [
  "name",
  "version",
  "description",
  "triggers",
  "services",
  "nodes",
  "edges",
  "onError",
  "inputSchema",
  "config",
  "concurrency",
  "retention",
  "deployment",
  "webhooks",
] as const;
const SETTING_HINT = (key: string) => `Move it under config:, e.g. config: { ${key}: … }`;
const TOP_MISPLACED: Record<string, string> = {
  timeout: SETTING_HINT("timeout"),
  retries: SETTING_HINT("retries"),
  failFast: SETTING_HINT("failFast"),
  maxParallel: SETTING_HINT("maxParallel"),
  path: "Node keys belong under nodes:, e.g. nodes: { fetch: { path: ./nodes/fetch.ts } }",
  capabilities: "Capabilities are per node: put them under nodes.<id>.capabilities",
  schedule: 'Declare it as a trigger: triggers: [{ type: cron, schedule: "0 9 * * *" }]',
  secrets: "Secrets live in .secrets.yaml or .secrets/, never in workflow.yaml",
};

/**
 * Validates a parsed workflow and builds its DAG. Collects every issue before throwing.
 *
 * @param parsed The result of `parseWorkflow()`.
 * @param options The workflow directory and the node files' contents.
 * @returns The compiled workflow; the onError node is not part of `nodes`.
 * @throws {WorkflowSyntaxError} With every issue (file, line, column, message, hint).
 * @example
 * ```ts
 * const text = await Deno.readTextFile("wf/workflow.yaml");
 * const sources = new Map([["/abs/wf/nodes/hello.ts", "export default () => 1"]]);
 * const workflow = compileWorkflow(parseWorkflow(text, "workflow.yaml"), { dir: "/abs/wf", sources });
 * workflow.order; // ["hello"]
 * ```
 */
export function compileWorkflow(
  parsed: ParsedWorkflow,
  options: CompileWorkflowOptions,
): CompiledWorkflow {
  const dir = resolve(options.dir);
  const file = isAbsolute(parsed.file) ? parsed.file : resolve(dir, parsed.file);
  const checker = new Checker(isInside(dir, file) ? relative(dir, file) : file);
  const root = parsed.root;
  if (root === null || root.kind !== "map") {
    const pos = root?.pos ?? { line: 1, column: 1 };
    const message = root === null ? "Workflow file is empty" : "Workflow file must be a map";
    checker.report(pos, message, "Start with name: my-workflow, version: 1.0.0 and nodes:");
    throw fail(checker);
  }
  const top = checker.keys(root, TOP_KEYS, "key", TOP_MISPLACED);
  const required = (key: "name" | "version" | "nodes", hint: string) => {
    const entry = top.get(key);
    if (!entry) checker.report(root.pos, `Missing required key "${key}"`, hint);
    return entry;
  };

  const name = readName(checker, required("name", "Add name: my-workflow"));
  const version = readVersion(checker, required("version", 'Add version: "1.0.0"'));
  const description = top.get("description");
  const settings = compileSettings(checker, top.get("config"));
  const nodesEntry = required("nodes", "Add nodes: { hello: { path: ./nodes/hello.ts } }");
  const nodesMap = nodesEntry &&
    checker.map(nodesEntry.value, "nodes", "Write nodes: { hello: { path: ./nodes/hello.ts } }");
  if (nodesMap && nodesMap.entries.length === 0) {
    checker.report(
      nodesMap.pos,
      "Workflow has no nodes",
      "Add nodes: { hello: { path: ./nodes/hello.ts } }",
    );
  }
  const compiled = nodesMap
    ? compileNodes(checker, nodesMap, { dir, sources: options.sources, settings })
    : { nodes: new Map<string, CompiledNode>(), positions: new Map() };

  const onErrorId = readOnError(checker, top.get("onError"), compiled.nodes);
  const dagIds = [...compiled.nodes.keys()].filter((id) => id !== onErrorId);
  const dag = compileDag(checker, top.get("edges"), dagIds, onErrorId);
  const triggers = compileTriggers(checker, top.get("triggers"), name ?? "");
  const webhooks = compileWebhooks(checker, top.get("webhooks"));
  const services = compileServices(checker, top.get("services"));
  const inputSchemaEntry = top.get("inputSchema");
  const inputSchema = inputSchemaEntry && compileInputSchema(checker, inputSchemaEntry);
  const concurrency = compileConcurrency(checker, top.get("concurrency"), inputSchema);
  const retention = compileRetention(checker, top.get("retention"));
  const configEntry = top.get("config");
  const deploymentEntry = top.get("deployment");
  const deployment = deploymentEntry &&
    checker.map(deploymentEntry.value, "deployment", "Write deployment: { serviceAccount: name }");
  const descriptionText = description && checker.string(description);

  if (checker.issues.length > 0 || name === undefined || version === undefined) {
    throw fail(checker);
  }
  const nodes: Record<string, CompiledNode> = {};
  for (const id of dagIds) nodes[id] = compiled.nodes.get(id)!;
  const onError = onErrorId === undefined ? undefined : compiled.nodes.get(onErrorId);
  const workflow: CompiledWorkflow = {
    name,
    version,
    ...(descriptionText !== undefined ? { description: descriptionText } : {}),
    dir,
    file,
    triggers,
    services,
    nodes,
    order: dag.order,
    edges: dag.edges,
    parents: dag.parents,
    children: dag.children,
    roots: dag.roots,
    sinks: dag.sinks,
    ...(onError ? { onError } : {}),
    ...(inputSchema !== undefined ? { inputSchema } : {}),
    config: configEntry ? toPlain(configEntry.value) as Record<string, unknown> : {},
    settings,
    concurrency,
    ...(retention ? { retention } : {}),
    ...(deployment ? { deployment: toPlain(deployment) as Record<string, unknown> } : {}),
    ...(webhooks ? { webhooks } : {}),
    codeHash: workflowHash(options.workflowText ?? parsed.text, compiled.nodes),
  };
  return workflow;
}

function fail(checker: Checker): WorkflowSyntaxError {
  const issues = checker.issues.map((issue, i) => ({ issue, i }));
  // The workflow file first, then by position; ties keep discovery order.
  issues.sort((a, b) =>
    Number(b.issue.file === checker.file) - Number(a.issue.file === checker.file) ||
    a.issue.file.localeCompare(b.issue.file) || a.issue.line - b.issue.line ||
    a.issue.column - b.issue.column || a.i - b.i
  );
  return new WorkflowSyntaxError(issues.map(({ issue }) => issue));
}

function readName(checker: Checker, entry: LocatedEntry | undefined): string | undefined {
  if (!entry) return undefined;
  const name = checker.string(entry, { nonEmpty: true, example: "my-workflow" });
  if (name === undefined) return undefined;
  const problem = checkWorkflowName(name);
  if (!problem) return name;
  checker.report(entry.value.pos, problem.message, problem.hint);
  return undefined;
}

function readVersion(checker: Checker, entry: LocatedEntry | undefined): string | undefined {
  if (!entry) return undefined;
  const node = entry.value;
  // A YAML number keeps its source text: `1.10` must not become 1.1.
  const text = node.kind === "scalar" && typeof node.value === "number"
    ? node.source
    : node.kind === "scalar" && typeof node.value === "string"
    ? node.value
    : undefined;
  const version = text === undefined ? undefined : normaliseVersion(text);
  if (version !== undefined) return version;
  const shown = text ?? (node.kind === "scalar" ? node.source : "");
  checker.report(
    node.pos,
    text === undefined
      ? `Expected a version for "version", got ${describe(node)}`
      : `Invalid version "${shown}": expected semver MAJOR.MINOR.PATCH`,
    `Write version: "${suggestVersion(shown)}"`,
  );
  return undefined;
}

function readOnError(
  checker: Checker,
  entry: LocatedEntry | undefined,
  nodes: ReadonlyMap<string, CompiledNode>,
): string | undefined {
  if (!entry) return undefined;
  const id = checker.string(entry, { nonEmpty: true, example: "notify-failure" });
  if (id === undefined) return undefined;
  if (nodes.has(id)) return id;
  const match = closest(id, nodes.keys());
  checker.report(
    entry.value.pos,
    `onError names unknown node "${id}"`,
    match
      ? `Did you mean "${match}"?`
      : `Declare it under nodes:, e.g. ${id}: { path: ./nodes/${id}.ts }`,
  );
  return undefined;
}

/** sha256 over workflow.yaml and every node's id and code hash, in id order. */
function workflowHash(text: string, nodes: ReadonlyMap<string, CompiledNode>): string {
  const parts = [`workflow.yaml\0${text.length}\0${text}`];
  for (const id of [...nodes.keys()].sort()) parts.push(`${id}\0${nodes.get(id)!.codeHash}`);
  return createHash("sha256").update(parts.join("\0")).digest("hex");
}
