/**
 * The fixture runner behind `pipedreamer test` (SPEC §8): node fixtures run one node with the
 * fixture's input, pipeline fixtures run the whole DAG, both through the same executor and
 * runner as `exec`.
 *
 * @module
 */

import { join, relative } from "node:path";
import { createRunner } from "./create_runner.ts";
import { executeRun } from "./execute_run.ts";
import { createRedactor, loadSecrets } from "./secrets.ts";
import { InputValidationError } from "./errors.ts";
import { judgeFixture, type Outcome } from "./_judge_fixture.ts";
import { fixtureK8s } from "./_fixture_k8s.ts";
import {
  createFixtureFetchMock,
  type Fixture,
  listFixtures,
  nodeOfFile,
  overlaySecrets,
  parseFixture,
} from "./_fixture_file.ts";
import type {
  CompiledNode,
  CompiledWorkflow,
  FetchMock,
  K8sAccess,
  K8sHostTransport,
  LogLine,
  NodeRunner,
  RunRecord,
} from "./types.ts";

/** The two kinds of fixture. */
export const FixtureKind = {
  /** `tests/fixtures/<node>.json` or `<node>.<case>.json`: one node alone. */
  Node: "node",
  /** `tests/pipeline/<name>.json`: the whole DAG. */
  Pipeline: "pipeline",
} as const;
/** One of {@link FixtureKind}. */
export type FixtureKind = typeof FixtureKind[keyof typeof FixtureKind];

/** The outcome of one fixture. */
export interface FixtureResult {
  /** `fixtures/<node>` or `pipeline/<name>`: the file's path under tests/ without `.json`. */
  name: string;
  kind: FixtureKind;
  /** The fixture file, relative to the workflow directory. */
  file: string;
  /** The node under test (node fixtures). */
  node?: string;
  passed: boolean;
  durationMs: number;
  /** Why it failed, one line (secrets redacted). */
  failure?: string;
  /** Expected vs actual, when the output did not match (secrets redacted). */
  diff?: string;
  /**
   * Requests no fixture entry answered: `ctx.fetch` ones as `GET github /user/repos`,
   * `ctx.k8s` ones as `k8s GET /api/v1/nodes`.
   */
  unmatched: string[];
}

/** What `runFixtures()` returns. */
export interface FixtureReport {
  workflow: string;
  passed: number;
  failed: number;
  results: FixtureResult[];
}

/** Options of {@link runFixtures}. */
export interface RunFixturesOptions {
  /** Runner for every node call. @default createRunner(), closed at the end */
  runner?: NodeRunner;
  /** Secrets the fixtures' `secrets` overlay. @default await loadSecrets(workflow.dir) */
  secrets?: Record<string, unknown>;
  /** Use the real network instead of the fixtures' `fetch` lists. @default false */
  live?: boolean;
  /** Only this node's fixtures (and no pipeline fixtures). @default every fixture */
  node?: string;
  /** Only pipeline fixtures. @default false */
  pipelineOnly?: boolean;
  /** Aborting cancels the running fixture and skips the rest. @default no cancellation */
  signal?: AbortSignal;
  /** Called after each fixture, for progress output. @default none */
  onResult?: (result: FixtureResult) => void;
  /** Receives the nodes' `ctx.log` lines (redacted). @default dropped */
  onLog?: (line: LogLine) => void;
  /**
   * Builds the transport answering a fixture's `"k8s"` list (k8s's `createK8sMock`). It must
   * reject exactly when no entry matches a call: such a call fails the fixture, named like an
   * unmatched fetch. Not used with `live`.
   * @default undefined (a fixture with a non-empty "k8s" list fails)
   */
  k8sMock?: (entries: unknown[]) => K8sHostTransport;
  /**
   * Gives `ctx.k8s` to a node that declares `capabilities.k8s`, from `mock` (the fixture's
   * "k8s" list through `k8sMock`; undefined with `live` or without `k8sMock`): the place to
   * restrict it to the node's rules (k8s's `guardK8sTransport`) and, with `live`, to return
   * the real API instead.
   * @default the mock as is, in namespace "default"; no `ctx.k8s` without a mock
   */
  k8s?: (node: CompiledNode, mock: K8sHostTransport | undefined) => K8sAccess | undefined;
}

/**
 * Runs a workflow's fixtures: node fixtures first (file name order), then pipeline fixtures.
 *
 * @throws {RangeError} when `options.node` is not a node of the workflow.
 * @example
 * ```ts
 * const report = await runFixtures(await loadWorkflow("examples/hello-world"), {});
 * console.log(`${report.passed} passed, ${report.failed} failed`);
 * ```
 */
export async function runFixtures(
  workflow: CompiledWorkflow,
  options: RunFixturesOptions = {},
): Promise<FixtureReport> {
  if (options.node !== undefined && !findNode(workflow, options.node)) {
    throw new RangeError(
      `Cannot test node "${options.node}": workflow "${workflow.name}" has no such node; ` +
        `nodes: ${allNodeIds(workflow).join(", ")}`,
    );
  }
  const files = [
    ...(options.pipelineOnly ? [] : await listFixtures(workflow.dir, "fixtures")).filter(
      (file) => options.node === undefined || nodeOfFile(file) === options.node,
    ).map((file) => ({ kind: FixtureKind.Node, file })),
    ...(options.node !== undefined ? [] : await listFixtures(workflow.dir, "pipeline"))
      .map((file) => ({ kind: FixtureKind.Pipeline, file })),
  ];
  const runner = options.runner ?? createRunner();
  const secrets = options.secrets ?? await loadSecrets(workflow.dir);
  const results: FixtureResult[] = [];
  try {
    for (const { kind, file } of files) {
      if (options.signal?.aborted) break;
      const result = await runOne(workflow, kind, file, runner, secrets, options);
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    if (!options.runner) await runner.close();
  }
  const passed = results.filter((r) => r.passed).length;
  return { workflow: workflow.name, passed, failed: results.length - passed, results };
}

async function runOne(
  workflow: CompiledWorkflow,
  kind: FixtureKind,
  file: string,
  runner: NodeRunner,
  baseSecrets: Record<string, unknown>,
  options: RunFixturesOptions,
): Promise<FixtureResult> {
  const started = performance.now();
  const rel = relative(workflow.dir, file);
  const name = relative(join(workflow.dir, "tests"), file).replace(/\.json$/, "");
  const node = kind === FixtureKind.Node ? nodeOfFile(file) : undefined;
  const result: FixtureResult = {
    name,
    kind,
    file: rel,
    node,
    passed: false,
    durationMs: 0,
    unmatched: [],
  };
  let redact = createRedactor(baseSecrets);
  try {
    const fixture = parseFixture(await Deno.readTextFile(file));
    const secrets = overlaySecrets(baseSecrets, fixture.secrets);
    redact = createRedactor(secrets);
    const fetch = options.live ? undefined : createFixtureFetchMock(fixture.fetch);
    const k8s = fixtureK8s(fixture, options);
    const run = { secrets, redact, fetchMock: fetch?.mock, k8s: k8s.k8s, runner, options, fixture };
    const outcome = node === undefined
      ? await runPipeline(workflow, run)
      : await runNode(workflow, node, run);
    const unmatched = { fetch: fetch?.unmatched ?? [], k8s: k8s.unmatched };
    result.unmatched = [...unmatched.fetch, ...unmatched.k8s.map((r) => `k8s ${r}`)];
    Object.assign(result, judgeFixture(fixture, outcome, unmatched, redact));
  } catch (error) {
    result.failure = redact(error instanceof Error ? error.message : String(error));
  }
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

interface FixtureRun {
  secrets: Record<string, unknown>;
  redact: (text: string) => string;
  fetchMock?: FetchMock;
  k8s: (node: CompiledNode) => K8sAccess | undefined;
  runner: NodeRunner;
  options: RunFixturesOptions;
  fixture: Fixture;
}

async function runPipeline(workflow: CompiledWorkflow, run: FixtureRun): Promise<Outcome> {
  try {
    return outcomeOf(await execute(workflow, run, run.fixture.input ?? {}, run.runner));
  } catch (error) {
    // A run input the inputSchema rejects is an outcome a fixture may expect ("error").
    if (error instanceof InputValidationError) return { error: error.message };
    throw error;
  }
}

/**
 * Runs one node alone: a one-node workflow through the same executor (so timeouts, retries,
 * sandbox and fetch behave as in a run). Its `ctx.route()` choice is captured here and checked
 * against the real workflow's children, because the one-node workflow has none.
 */
async function runNode(
  workflow: CompiledWorkflow,
  id: string,
  run: FixtureRun,
): Promise<Outcome> {
  const node = findNode(workflow, id);
  if (!node) {
    throw new RangeError(
      `Cannot run fixture: workflow has no node "${id}"; name the file after a node ` +
        `(tests/fixtures/<node>.json or <node>.<case>.json); nodes: ${
          allNodeIds(workflow).join(", ")
        }`,
    );
  }
  const single: CompiledWorkflow = {
    ...workflow,
    nodes: { [id]: node },
    order: [id],
    edges: [],
    parents: { [id]: [] },
    children: { [id]: [] },
    roots: [id],
    sinks: [id],
    onError: undefined,
    inputSchema: undefined,
  };
  let routes: string[] | undefined;
  const capturing: NodeRunner = {
    run: async (call, signal) => {
      // The node itself sees the real workflow (its ctx.route() checks the real children).
      const result = await run.runner.run({ ...call, workflow }, signal);
      routes = result.routes;
      return { output: result.output };
    },
    close: () => Promise.resolve(),
  };
  if (run.runner.makeTmpDir) capturing.makeTmpDir = (runId) => run.runner.makeTmpDir!(runId);
  const record = await execute(single, run, run.fixture.input, capturing);
  const children = workflow.children[id] ?? [];
  const undeclared = (routes ?? []).filter((r) => !children.includes(r));
  if (undeclared.length > 0) {
    return {
      error: `ctx.route() chose ${undeclared.map((r) => `"${r}"`).join(", ")}, not a child ` +
        `of "${id}"; declare an edge or route to one of: ${children.join(", ") || "(none)"}`,
    };
  }
  return { ...outcomeOf(record), routes: routes ?? children };
}

function execute(
  workflow: CompiledWorkflow,
  run: FixtureRun,
  input: unknown,
  runner: NodeRunner,
): Promise<RunRecord> {
  return executeRun(workflow, {
    input,
    runner,
    secrets: run.secrets,
    config: run.fixture.config,
    redact: run.redact,
    fetchMock: run.fetchMock,
    k8s: run.k8s,
    signal: run.options.signal,
    trigger: "test",
    hooks: run.options.onLog ? { onLog: run.options.onLog } : undefined,
  });
}

function outcomeOf(record: RunRecord): Outcome {
  if (record.status === "succeeded") return { output: record.result };
  const message = record.error
    ? `node "${record.error.node}": ${record.error.message}`
    : `run ${record.status}`;
  return { error: message };
}

function findNode(workflow: CompiledWorkflow, id: string) {
  return workflow.nodes[id] ?? (workflow.onError?.id === id ? workflow.onError : undefined);
}

function allNodeIds(workflow: CompiledWorkflow): string[] {
  return [...workflow.order, ...(workflow.onError ? [workflow.onError.id] : [])];
}
