/**
 * `runFixtures()` with `ctx.k8s`. The engine does not know Kubernetes: the mock of a fixture's
 * "k8s" list is injected (the CLI injects k8s's `createK8sMock`; tests/cli_test_test.ts runs
 * that wiring end to end). This stand-in answers entries the same way: method (default GET),
 * exact path, and the entry's query parameters when it has some.
 */

import assert from "node:assert/strict";
import { createInProcessRunner } from "./in_process_runner.ts";
import { loadWorkflow } from "./load_workflow.ts";
import { type FixtureReport, type FixtureResult, runFixtures } from "./run_fixtures.ts";
import type { K8sHostTransport } from "./types.ts";

const DIR = new URL("./testdata/k8s_fixtures", import.meta.url).pathname;

interface Entry {
  method?: string;
  path: string;
  query?: Record<string, string>;
  status?: number;
  body?: unknown;
}

function entryMock(entries: unknown[]): K8sHostTransport {
  return (request) => {
    const url = new URL(request.path, "http://k8s.invalid");
    const hit = (entries as Entry[]).find((e) =>
      (e.method ?? "GET") === request.method && e.path === url.pathname &&
      Object.entries(e.query ?? {}).every(([k, v]) => url.searchParams.get(k) === v)
    );
    return hit
      ? Promise.resolve({ status: hit.status ?? 200, body: hit.body })
      : Promise.reject(new Error(`no "k8s" entry matches ${request.method} ${request.path}`));
  };
}

async function run(options: Parameters<typeof runFixtures>[1] = {}): Promise<FixtureReport> {
  const workflow = await loadWorkflow(DIR);
  const runner = createInProcessRunner();
  try {
    return await runFixtures(workflow, { runner, secrets: {}, ...options });
  } finally {
    await runner.close();
  }
}

function byName(report: FixtureReport): Record<string, FixtureResult> {
  return Object.fromEntries(report.results.map((r) => [r.name, r]));
}

Deno.test('`runFixtures()` answers ctx.k8s from the fixture\'s "k8s" list and names unmatched calls', async () => {
  const results = byName(await run({ k8sMock: entryMock }));
  assert.equal(
    results["fixtures/web-pods"]?.passed,
    true,
    results["fixtures/web-pods"]?.failure ?? "",
  );
  assert.equal(
    results["pipeline/two-pods"]?.passed,
    true,
    results["pipeline/two-pods"]?.failure ?? "",
  );
  const unmatched = results["fixtures/web-pods.unmatched"];
  assert.equal(unmatched?.passed, false);
  assert.deepEqual(unmatched?.unmatched, [
    "k8s GET /api/v1/namespaces/default/pods?labelSelector=app=web",
  ]);
  assert.equal(
    unmatched?.failure,
    "unmatched k8s request: GET /api/v1/namespaces/default/pods?labelSelector=app=web; add it " +
      `to the fixture's "k8s" list or run with --live`,
  );
});

Deno.test("`runFixtures()` hands each k8s node the fixture's mock through the k8s option, and none with live", async () => {
  const given: [string, boolean][] = [];
  const mocked = await run({
    node: "web-pods",
    k8sMock: entryMock,
    k8s: (node, mock) => {
      given.push([node.id, mock !== undefined]);
      return mock && { namespace: "other", transport: mock };
    },
  });
  // In namespace "other" the .unmatched fixture's entry answers and the first one does not.
  assert.deepEqual(mocked.results.map((r) => [r.name, r.passed]), [
    ["fixtures/web-pods", false],
    ["fixtures/web-pods.unmatched", true],
  ]);
  assert.deepEqual(given, [["web-pods", true], ["web-pods", true]]);

  const live: K8sHostTransport = () =>
    Promise.resolve({
      status: 200,
      body: { items: [{ metadata: { name: "web-1" } }, { metadata: { name: "web-2" } }] },
    });
  given.length = 0;
  const report = await run({
    live: true,
    node: "web-pods",
    k8sMock: entryMock,
    k8s: (node, mock) => {
      given.push([node.id, mock !== undefined]);
      return { namespace: "default", transport: live };
    },
  });
  assert.deepEqual(given, [["web-pods", false], ["web-pods", false]]);
  assert.equal(report.results[0]?.passed, true, report.results[0]?.failure ?? "");
});

Deno.test('`runFixtures()` fails a fixture with a "k8s" list when it has no k8sMock', async () => {
  const result = byName(await run())["fixtures/web-pods"];
  assert.equal(result?.passed, false);
  assert.equal(
    result?.failure,
    `Cannot use the fixture's "k8s" list: the fixture runner has no Kubernetes mock; pass the ` +
      "k8sMock option of runFixtures()",
  );
});
