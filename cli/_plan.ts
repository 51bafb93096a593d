/**
 * The execution plan `exec --dry-run` prints: the nodes a run would execute, in topological
 * order, with their parents and limits.
 *
 * @module
 */

import {
  type CompiledNode,
  type CompiledWorkflow,
  concurrencyKeyOf,
  type ConcurrencySettings,
  formatDuration,
} from "../engine/mod.ts";

/** One planned node. */
export interface PlanStep {
  node: string;
  kind: CompiledNode["kind"];
  parents: string[];
  timeoutMs: number;
  retries: number;
  allowFailure: boolean;
  capabilities: { net: string[]; run: string[] };
  /** Heap limit of a module node's sandbox, in MiB. */
  memoryMiB?: number;
  /** `run`: a fresh sandbox per attempt. */
  isolation?: "run";
}

/** The plan of one run. */
export interface Plan {
  workflow: string;
  version: string;
  target?: string;
  steps: PlanStep[];
  onError?: PlanStep;
  /** How `dev` and `serve` limit the runs (SPEC §2, §10); `exec` itself runs one at once. */
  concurrency?: ConcurrencySettings;
  /** With `concurrency.key`: the key value the planned input falls under ("" for none). */
  concurrencyKey?: string;
}

/** Options of {@link buildPlan}. */
export interface PlanOptions {
  /** Plan only this node and its ancestors. @default undefined (every node) */
  target?: string;
  /** The run input (for the concurrency key value). @default {} */
  input?: unknown;
}

/** The nodes a run executes: every node, or `target` and its ancestors. */
export function buildPlan(workflow: CompiledWorkflow, options: PlanOptions = {}): Plan {
  const { target } = options;
  const wanted = target === undefined ? undefined : ancestorsAndSelf(workflow, target);
  const steps = workflow.order
    .filter((id) => wanted === undefined || wanted.has(id))
    .map((id) => step(workflow, id, workflow.nodes[id]));
  return {
    workflow: workflow.name,
    version: workflow.version,
    target,
    steps,
    onError: workflow.onError ? step(workflow, workflow.onError.id, workflow.onError) : undefined,
    concurrency: workflow.concurrency,
    concurrencyKey: workflow.concurrency?.key === undefined
      ? undefined
      : concurrencyKeyOf(workflow.concurrency, options.input ?? {}),
  };
}

function step(workflow: CompiledWorkflow, id: string, node: CompiledNode | undefined): PlanStep {
  if (!node) throw new RangeError(`Cannot plan node "${id}": it is not compiled`);
  const planned: PlanStep = {
    node: id,
    kind: node.kind,
    parents: workflow.parents[id] ?? [],
    timeoutMs: node.timeoutMs,
    retries: node.retries,
    allowFailure: node.allowFailure,
    capabilities: { net: node.capabilities.net, run: node.capabilities.run },
  };
  if (node.kind === "module") planned.memoryMiB = node.memoryMiB ?? 256;
  if (node.isolation !== undefined) planned.isolation = node.isolation;
  return planned;
}

/** A memory size as workflow.yaml writes it: 256Mi, 1Gi. */
function formatMemory(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

function ancestorsAndSelf(workflow: CompiledWorkflow, target: string): Set<string> {
  const seen = new Set<string>();
  const stack = [target];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(workflow.parents[id] ?? []));
  }
  return seen;
}

/** The plan as aligned text lines. */
export function formatPlan(plan: Plan): string[] {
  const n = plan.steps.length;
  const lines = [
    `Plan for ${plan.workflow} ${plan.version}: ${n} ${n === 1 ? "node" : "nodes"}` +
    (plan.target ? ` (target "${plan.target}")` : "") + "; dry run, nothing executed",
  ];
  const width = Math.max(...plan.steps.map((s) => s.node.length), 4);
  const from = (s: PlanStep) => s.parents.length > 0 ? s.parents.join(", ") : "(run input)";
  const fromWidth = Math.max(...plan.steps.map((s) => from(s).length), 4);
  plan.steps.forEach((s, index) => {
    const num = `${index + 1}.`.padStart(String(n).length + 1);
    lines.push(`  ${num} ${s.node.padEnd(width)}  ← ${from(s).padEnd(fromWidth)}  ${limits(s)}`);
  });
  if (plan.onError) {
    lines.push(`  on error: ${plan.onError.node}  ${limits(plan.onError)}`);
  }
  if (plan.concurrency) {
    lines.push(`  runs in dev/serve: ${formatConcurrency(plan.concurrency, plan.concurrencyKey)}`);
  }
  return lines;
}

/** e.g. `per key /tenant (this input: "acme"): maxRuns 1, …; maxRunsTotal 10 over all keys`. */
function formatConcurrency(c: ConcurrencySettings, key = ""): string {
  const limits = [`maxRuns ${c.maxRuns}`, `queueLimit ${c.queueLimit}`, c.strategy];
  if (c.startDelayMs > 0) limits.push(`startDelay ${formatDuration(c.startDelayMs)}`);
  if (c.key === undefined) return limits.join(", ");
  const value = key === "" ? 'key "", no value there' : JSON.stringify(key);
  return `per key ${c.key} (this input: ${value}): ${limits.join(", ")}; ` +
    (c.maxRunsTotal === undefined
      ? "no cap over all keys"
      : `maxRunsTotal ${c.maxRunsTotal} over all keys`);
}

function limits(s: PlanStep): string {
  const parts = [
    s.kind === "command" ? "command" : "module",
    `timeout ${formatDuration(s.timeoutMs)}`,
    `retries ${s.retries}`,
  ];
  if (s.memoryMiB !== undefined) parts.push(`memory ${formatMemory(s.memoryMiB)}`);
  if (s.isolation === "run") parts.push("isolation run");
  if (s.allowFailure) parts.push("allowFailure");
  if (s.capabilities.net.length > 0) parts.push(`net: ${s.capabilities.net.join(", ")}`);
  if (s.capabilities.run.length > 0) parts.push(`run: ${s.capabilities.run.join(", ")}`);
  return parts.join(", ");
}
