import assert from "node:assert/strict";
import { compileWorkflow } from "./compile_workflow.ts";
import { parseWorkflow } from "./parse_workflow.ts";
import { compileText, DIR, issuesOf, NODE_SOURCE } from "../testdata/_compile_helpers.ts";

const HEAD = "name: demo\nversion: 1.0.0\n";

Deno.test("`compileWorkflow()` applies every default", () => {
  const workflow = compileText(`${HEAD}nodes:\n  a: { path: ./nodes/a.ts }\n`);
  assert.deepEqual(workflow.triggers, [{ type: "manual" }]);
  assert.deepEqual(workflow.settings, {
    timeoutMs: 30_000,
    retries: 1,
    failFast: true,
    maxParallel: 16,
    backoffMs: 200,
    maxBackoffMs: 30_000,
  });
  assert.deepEqual(workflow.concurrency, {
    maxRuns: 10,
    queueLimit: 100,
    strategy: "append",
    startDelayMs: 0,
  });
  assert.equal(workflow.retention, undefined);
  assert.equal(workflow.onError, undefined);
  assert.equal(workflow.inputSchema, undefined);
  assert.equal(workflow.deployment, undefined);
  assert.deepEqual(workflow.config, {});
  assert.deepEqual(workflow.services, {});
  assert.equal(workflow.dir, DIR);
  assert.equal(workflow.file, `${DIR}/workflow.yaml`);
  assert.deepEqual(workflow.nodes.a, {
    id: "a",
    kind: "module",
    path: `${DIR}/nodes/a.ts`,
    capabilities: { net: [], run: [] },
    timeoutMs: 30_000,
    retries: 1,
    allowFailure: false,
    codeHash: workflow.nodes.a!.codeHash,
    memoryMiB: 256,
  });
  assert.match(workflow.nodes.a!.codeHash, /^[0-9a-f]{64}$/);
  assert.match(workflow.codeHash, /^[0-9a-f]{64}$/);
});

Deno.test("`compileWorkflow()` lets config and nodes override the defaults", () => {
  const workflow = compileText(
    `${HEAD}nodes:\n  a:\n    path: ./nodes/a.ts\n    timeout: 1m30s\n    retries: 0\n` +
      "    allowFailure: true\n    cache: 10m\n    recordFetch: true\n" +
      "  b: { path: ./nodes/b.ts, recordFetch: false }\nconfig:\n" +
      "  timeout: 5s\n  retries: 3\n  failFast: false\n  maxParallel: 2\n  backoff: 1s\n" +
      "  maxBackoff: 1m\n  channel: '#general'\n" +
      "concurrency: { maxRuns: 4, strategy: replace, startDelay: 500ms }\n" +
      "retention: { maxRuns: 1000, maxAge: 30d }\ndeployment: { serviceAccount: reader }\n",
  );
  assert.deepEqual(workflow.settings, {
    timeoutMs: 5_000,
    retries: 3,
    failFast: false,
    maxParallel: 2,
    backoffMs: 1_000,
    maxBackoffMs: 60_000,
  });
  const { a, b } = workflow.nodes;
  assert.deepEqual([a!.timeoutMs, a!.retries, a!.allowFailure, a!.cacheMs], [
    90_000,
    0,
    true,
    600_000,
  ]);
  assert.deepEqual([b!.timeoutMs, b!.retries, b!.allowFailure, b!.cacheMs], [
    5_000,
    3,
    false,
    undefined,
  ]);
  assert.deepEqual([a!.recordFetch, b!.recordFetch], [true, undefined]);
  assert.deepEqual(workflow.config, {
    timeout: "5s",
    retries: 3,
    failFast: false,
    maxParallel: 2,
    backoff: "1s",
    maxBackoff: "1m",
    channel: "#general",
  });
  assert.deepEqual(workflow.concurrency, {
    maxRuns: 4,
    queueLimit: 100,
    strategy: "replace",
    startDelayMs: 500,
  });
  assert.deepEqual(workflow.retention, { maxRuns: 1000, maxAgeMs: 30 * 86_400_000 });
  assert.deepEqual(workflow.deployment, { serviceAccount: "reader" });
});

Deno.test("`compileWorkflow()` reads limits.memory, isolation and capabilities.secrets", () => {
  const workflow = compileText(
    `${HEAD}nodes:\n  a:\n    path: ./nodes/a.ts\n    limits: { memory: 1Gi }\n` +
      "    isolation: run\n    capabilities: { secrets: [github, slack] }\n" +
      "  b: { path: ./nodes/b.ts }\nconfig: { limits: { memory: 512Mi } }\n",
  );
  const { a, b } = workflow.nodes;
  assert.equal(a!.memoryMiB, 1024);
  assert.equal(a!.isolation, "run");
  assert.deepEqual(a!.capabilities.secrets, ["github", "slack"]);
  assert.equal(b!.memoryMiB, 512);
  assert.equal(b!.isolation, undefined);
  assert.equal(workflow.settings.memoryMiB, 512);
});

Deno.test("`compileWorkflow()` rejects a bad memory limit or isolation with its position", () => {
  const issues = issuesOf(
    `${HEAD}nodes:\n  a:\n    path: ./nodes/a.ts\n    limits: { memory: lots }\n` +
      "    isolation: process\n  b:\n    path: ./nodes/b.ts\n    limits: { memory: 8Mi }\n",
  );
  assert.deepEqual(issues.map((i) => [i.line, i.message]), [
    [6, 'Expected a memory size for "memory"'],
    [7, 'Unknown isolation "process"'],
    [10, '"memory" must be 32Mi to 64Gi, got 8Mi'],
  ]);
});

Deno.test("`compileWorkflow()` normalises the version from its source text", () => {
  const table: [string, string][] = [
    ["1.0", "1.0.0"],
    ["1.10", "1.10.0"],
    ["1.20", "1.20.0"],
    ['"1.0"', "1.0.0"],
    ["'2.3'", "2.3.0"],
    ["1.2.3", "1.2.3"],
    ["0.0.1", "0.0.1"],
    ["1.0.0-beta.1+build.5", "1.0.0-beta.1+build.5"],
  ];
  for (const [written, expected] of table) {
    const workflow = compileText(
      `name: demo\nversion: ${written}\nnodes:\n  a: { path: ./nodes/a.ts }\n`,
    );
    assert.equal(workflow.version, expected, written);
  }
});

Deno.test("`compileWorkflow()` builds the DAG in declaration order", () => {
  const workflow = compileText(
    `${HEAD}nodes:\n` +
      ["e", "d", "c", "b", "a"].map((id) => `  ${id}: { path: ./nodes/${id}.ts }\n`).join("") +
      "  notify-failure: { path: ./nodes/notify-failure.ts }\n" +
      "edges:\n  - { from: e, to: c }\n  - { from: d, to: c }\n  - { from: c, to: a }\n" +
      "  - { from: c, to: b }\n  - { from: d, to: b }\nonError: notify-failure\n",
  );
  assert.deepEqual(Object.keys(workflow.nodes), ["e", "d", "c", "b", "a"]);
  assert.deepEqual(workflow.order, ["e", "d", "c", "b", "a"]);
  assert.deepEqual(workflow.roots, ["e", "d"]);
  assert.deepEqual(workflow.sinks, ["b", "a"]);
  assert.deepEqual(workflow.parents, { e: [], d: [], c: ["e", "d"], b: ["c", "d"], a: ["c"] });
  assert.deepEqual(workflow.children, { e: ["c"], d: ["c", "b"], c: ["a", "b"], b: [], a: [] });
  assert.deepEqual(workflow.edges[0], { from: "e", to: "c" });
  assert.equal(workflow.onError?.id, "notify-failure");
  assert.equal(workflow.nodes["notify-failure"], undefined);
});

Deno.test("`compileWorkflow()` orders ready nodes by declaration, not by discovery", () => {
  // z is declared first but only becomes ready after y; x is ready from the start.
  const workflow = compileText(
    `${HEAD}nodes:\n  z: { path: ./nodes/a.ts }\n  y: { path: ./nodes/a.ts }\n` +
      "  x: { path: ./nodes/a.ts }\nedges:\n  - { from: y, to: z }\n",
  );
  assert.deepEqual(workflow.order, ["y", "z", "x"]);
});

Deno.test("`compileWorkflow()` compiles triggers with their defaults", () => {
  const workflow = compileText(
    `${HEAD}triggers:\n  - manual\n  - type: cron\n    schedule: "*/15 9-17 * JAN-MAR mon-fri"\n` +
      "    timezone: Europe/Paris\n    input: { since: 1d }\n  - type: cron\n    schedule: '@daily'\n" +
      "  - type: queue\n    subject: events.github.push\n    stream: EVENTS\n    rateLimit: 600/m\n" +
      "    maxDeliver: 5\n    maxConcurrency: 4\n  - type: queue\n    subject: jobs.*\n" +
      "    durable: jobs-worker\n    rateLimit: 100/10s\nnodes:\n  a: { path: ./nodes/a.ts }\n",
  );
  assert.deepEqual(workflow.triggers, [
    { type: "manual" },
    {
      type: "cron",
      schedule: "*/15 9-17 * JAN-MAR mon-fri",
      timezone: "Europe/Paris",
      input: { since: "1d" },
    },
    { type: "cron", schedule: "@daily" },
    {
      type: "queue",
      subject: "events.github.push",
      durable: "demo",
      stream: "EVENTS",
      rateLimit: { count: 600, perMs: 60_000 },
      maxDeliver: 5,
      maxConcurrency: 4,
      deadLetter: "events.github.push.dlq",
    },
    {
      type: "queue",
      subject: "jobs.*",
      durable: "jobs-worker",
      rateLimit: { count: 100, perMs: 10_000 },
    },
  ]);
});

Deno.test("`compileWorkflow()` compiles capabilities and command nodes", () => {
  const workflow = compileText(
    `${HEAD}nodes:\n  a:\n    path: ./nodes/a.ts\n    capabilities:\n` +
      "      net: [API.GitHub.com, api.github.com, 'localhost:8080', '[::1]:9000']\n" +
      "      k8s: { resources: [pods] }\n  b:\n    path: ./nodes/b.ts\n    capabilities: { net: '*' }\n" +
      "  convert:\n    command: [python3, ./nodes/convert.py, --fast]\n" +
      "    capabilities: { run: python3 }\n",
    { "nodes/convert.py": "print('{}')\n" },
  );
  assert.deepEqual(workflow.nodes.a!.capabilities, {
    net: ["api.github.com", "localhost:8080", "[::1]:9000"],
    run: [],
    k8s: { resources: ["pods"] },
  });
  assert.deepEqual(workflow.nodes.b!.capabilities.net, ["*"]);
  const convert = workflow.nodes.convert!;
  assert.equal(convert.kind, "command");
  assert.deepEqual(convert.command, ["python3", "./nodes/convert.py", "--fast"]);
  assert.equal(convert.path, undefined);
  assert.deepEqual(convert.capabilities.run, ["python3"]);
});

Deno.test("`compileWorkflow()` hashes the workflow text and every node's code", () => {
  const yaml = `${HEAD}nodes:\n  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts }\n` +
    "  c:\n    command: [python3, ./nodes/c.py]\n    capabilities: { run: [python3] }\n";
  const files = { "nodes/c.py": "print(1)\n" };
  const base = compileText(yaml, files);
  assert.equal(compileText(yaml, files).codeHash, base.codeHash);

  const changedA = compileText(yaml, { ...files, "nodes/a.ts": `${NODE_SOURCE}// v2\n` });
  assert.notEqual(changedA.codeHash, base.codeHash);
  assert.notEqual(changedA.nodes.a!.codeHash, base.nodes.a!.codeHash);
  assert.equal(changedA.nodes.b!.codeHash, base.nodes.b!.codeHash);

  const changedScript = compileText(yaml, { "nodes/c.py": "print(2)\n" });
  assert.notEqual(changedScript.nodes.c!.codeHash, base.nodes.c!.codeHash);
  assert.notEqual(changedScript.codeHash, base.codeHash);

  const changedText = compileText(`${yaml}# a comment\n`, files);
  assert.notEqual(changedText.codeHash, base.codeHash);
  assert.equal(changedText.nodes.a!.codeHash, base.nodes.a!.codeHash);
});

Deno.test("`compileWorkflow()` supports anchors and merge keys", () => {
  const { a, b } = compileText(
    `${HEAD}nodes:\n  a: &defaults\n    path: ./nodes/a.ts\n    retries: 4\n    timeout: 2s\n` +
      "  b:\n    <<: *defaults\n    path: ./nodes/b.ts\n    retries: 0\n",
  ).nodes;
  assert.deepEqual([a!.path, a!.retries, a!.timeoutMs], [`${DIR}/nodes/a.ts`, 4, 2_000]);
  assert.deepEqual([b!.path, b!.retries, b!.timeoutMs], [`${DIR}/nodes/b.ts`, 0, 2_000]);
});

/** A workflow of `n` nodes n0…n(n-1), each in nodes/n.ts, with the given edges. */
function bigWorkflow(n: number, edges: (emit: (from: string, to: string) => void) => void) {
  const lines = ["name: big", "version: 1.0.0", "nodes:"];
  for (let i = 0; i < n; i++) lines.push(`  n${i}: { path: ./nodes/n.ts }`);
  lines.push("edges:");
  edges((from, to) => lines.push(`  - { from: ${from}, to: ${to} }`));
  return lines.join("\n") + "\n";
}

function compileBig(text: string) {
  const sources = new Map([[`${DIR}/nodes/n.ts`, NODE_SOURCE]]);
  return compileWorkflow(parseWorkflow(text, "workflow.yaml"), { dir: DIR, sources });
}

Deno.test("`compileWorkflow()` compiles a 10,000-node chain", () => {
  const n = 10_000;
  const workflow = compileBig(bigWorkflow(n, (edge) => {
    for (let i = 1; i < n; i++) edge(`n${i - 1}`, `n${i}`);
  }));
  assert.equal(workflow.order.length, n);
  assert.ok(workflow.order.every((id, i) => id === `n${i}`));
  assert.deepEqual(workflow.roots, ["n0"]);
  assert.deepEqual(workflow.sinks, [`n${n - 1}`]);
  assert.deepEqual(workflow.parents[`n${n - 1}`], [`n${n - 2}`]);
  assert.equal(workflow.edges.length, n - 1);
});

Deno.test("`compileWorkflow()` compiles a 10,000-node fan-out and join", () => {
  const n = 10_000;
  const text = bigWorkflow(n, (edge) => {
    for (let i = 1; i < n - 1; i++) edge("n0", `n${i}`);
    for (let i = 1; i < n - 1; i++) edge(`n${i}`, `n${n - 1}`);
  });
  const workflow = compileBig(text);
  assert.equal(workflow.order[0], "n0");
  assert.equal(workflow.order.at(-1), `n${n - 1}`);
  assert.equal(new Set(workflow.order).size, n);
  assert.equal(workflow.children.n0!.length, n - 2);
  assert.equal(workflow.parents[`n${n - 1}`]!.length, n - 2);
  assert.deepEqual(workflow.roots, ["n0"]);
  assert.deepEqual(workflow.sinks, [`n${n - 1}`]);
});

Deno.test("`compileWorkflow()` names a 10,000-node cycle without overflowing the stack", () => {
  const n = 10_000;
  const text = bigWorkflow(n, (edge) => {
    for (let i = 1; i < n; i++) edge(`n${i - 1}`, `n${i}`);
    edge(`n${n - 1}`, "n0");
  });
  const sources = { "nodes/n.ts": NODE_SOURCE };
  const [issue, ...rest] = issuesOf(text, sources);
  assert.equal(rest.length, 0);
  assert.ok(issue!.message.startsWith("Cycle: n0 → n1 → n2 → "));
  assert.ok(issue!.message.endsWith(`n${n - 1} → n0`));
  assert.equal(issue!.line, 3 + n + 1 + n);
  assert.equal(issue!.hint, `Remove one of its edges, e.g. { from: n${n - 1}, to: n0 }`);
});
