import assert from "node:assert/strict";
import { issuesOf, positionOf } from "../testdata/_compile_helpers.ts";

const HEAD = "name: demo\nversion: 1.0.0\n";
const NODES = "nodes:\n  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts }\n";
const WF = HEAD + NODES;

interface Case {
  name: string;
  yaml: string;
  files?: Record<string, string>;
  /** The issue sits at the `nth` occurrence of this marker in workflow.yaml … */
  at?: string;
  nth?: number;
  /** … or at this explicit position (in `file`). */
  line?: number;
  column?: number;
  file?: string;
  message: string;
  hint: string;
  /** Expected number of issues. @default 1 */
  count?: number;
}

const cron = (schedule: string, extra = "") =>
  `${HEAD}triggers:\n  - type: cron\n    schedule: "${schedule}"\n${extra}${NODES}`;
const queue = (body: string) => `${HEAD}triggers:\n  - type: queue\n${body}${NODES}`;
const node = (body: string) => `${HEAD}nodes:\n  a:\n${body}`;
const edges = (list: string) => `${WF}edges:\n${list}`;

const CASES: Case[] = [
  // Keys.
  {
    name: "unknown top-level key",
    yaml: `${HEAD}nodez: {}\n${NODES}`,
    at: "nodez",
    message: 'Unknown key "nodez"',
    hint: 'Did you mean "nodes"?',
  },
  {
    name: "engine setting at the top level",
    yaml: `${WF}timeout: 10s\n`,
    at: "timeout",
    message: 'Unknown key "timeout"',
    hint: "Move it under config:",
  },
  {
    name: "unknown node key",
    yaml: node("    path: ./nodes/a.ts\n    retry: 2\n"),
    at: "retry",
    message: 'Unknown node key "retry"',
    hint: 'Did you mean "retries"?',
  },
  {
    name: "dependencies declared on a node",
    yaml: node("    path: ./nodes/a.ts\n    dependsOn: [b]\n"),
    at: "dependsOn",
    message: 'Unknown node key "dependsOn"',
    hint: "Declare dependencies under edges:",
  },
  {
    name: "unknown capability",
    yaml: node("    path: ./nodes/a.ts\n    capabilities: { env: [HOME] }\n"),
    at: "env",
    message: 'Unknown capability "env"',
    hint: "Nodes get no environment",
  },
  {
    name: "unknown trigger type",
    yaml: `${HEAD}triggers:\n  - type: webhook\n${NODES}`,
    at: "webhook",
    message: 'Unknown trigger type "webhook"',
    hint: "use type: queue",
  },
  {
    name: "misspelt trigger type",
    yaml: `${HEAD}triggers: [{ type: cronn, schedule: "* * * * *" }]\n${NODES}`,
    at: "cronn",
    message: 'Unknown trigger type "cronn"',
    hint: 'Did you mean "cron"?',
  },
  {
    name: "unknown cron trigger key",
    yaml: cron("0 9 * * *", "    tz: UTC\n"),
    at: "tz",
    message: 'Unknown cron trigger key "tz"',
    hint: "timezone",
  },
  {
    name: "cron key on a manual trigger",
    yaml: `${HEAD}triggers:\n  - type: manual\n    schedule: "0 9 * * *"\n${NODES}`,
    at: "schedule",
    message: 'Unknown manual trigger key "schedule"',
    hint: "belongs to a cron trigger",
  },
  {
    name: "unknown edge key",
    yaml: edges("  - { from: a, to: b, when: ok }\n"),
    at: "when",
    message: 'Unknown edge key "when"',
    hint: "ctx.route()",
  },
  {
    name: "unknown concurrency key",
    yaml: `${WF}concurrency: { maxRun: 3 }\n`,
    at: "maxRun",
    message: 'Unknown concurrency key "maxRun"',
    hint: 'Did you mean "maxRuns"?',
  },
  // Names.
  {
    name: "workflow name not kebab-case",
    yaml: `name: My_Workflow\nversion: 1.0.0\n${NODES}`,
    at: "My_Workflow",
    message: 'Invalid workflow name "My_Workflow"',
    hint: "Write name: my-workflow",
  },
  {
    name: "workflow name over 53 characters",
    yaml: `name: ${"a".repeat(54)}\nversion: 1.0.0\n${NODES}`,
    at: "aaaa",
    message: "is 54 characters, the limit is 53",
    hint: "Shorten it",
  },
  {
    name: "node id not lowercase",
    yaml: `${HEAD}nodes:\n  FetchData: { path: ./nodes/a.ts }\n`,
    at: "FetchData",
    message: 'Invalid node id "FetchData"',
    hint: 'Rename it to "fetch-data"',
  },
  {
    name: "missing name",
    yaml: `version: 1.0.0\n${NODES}`,
    line: 1,
    column: 1,
    message: 'Missing required key "name"',
    hint: "Add name: my-workflow",
  },
  {
    name: "empty file",
    yaml: "# nothing yet\n",
    line: 1,
    column: 1,
    message: "Workflow file is empty",
    hint: "Start with name:",
  },
  {
    name: "no nodes",
    yaml: `${HEAD}nodes: {}\n`,
    at: "{}",
    message: "Workflow has no nodes",
    hint: "Add nodes:",
  },
  // Node files.
  {
    name: "missing node file",
    yaml: node("    path: ./nodes/missing.ts\n"),
    at: "./nodes/missing.ts",
    message: "Node file not found: nodes/missing.ts",
    hint: "Create nodes/missing.ts",
  },
  {
    name: "node file outside the workflow directory",
    yaml: node("    path: ../shared/a.ts\n"),
    at: "../shared",
    message: 'Node file "../shared/a.ts" is outside the workflow directory',
    hint: "Move it into the workflow directory",
  },
  {
    name: "node path that is not a module",
    yaml: node("    path: ./nodes/a.py\n"),
    at: "./nodes/a.py",
    message: "is not a TypeScript or JavaScript module",
    hint: "command: [<program>, ./nodes/a.py]",
  },
  {
    name: "node module without a default export",
    yaml: node("    path: ./nodes/a.ts\n"),
    files: { "nodes/a.ts": "export function run() {}\n" },
    file: "nodes/a.ts",
    line: 1,
    column: 1,
    message: 'Node module "nodes/a.ts" has no default export',
    hint: "export default async function run",
  },
  {
    name: "node with neither path nor command",
    yaml: `${HEAD}nodes:\n  a: { timeout: 5s }\n`,
    at: "a:",
    message: 'Node "a" has neither path nor command',
    hint: "Add path: ./nodes/a.ts",
  },
  {
    name: "node with both path and command",
    yaml: node(
      "    path: ./nodes/a.ts\n    command: [python3]\n    capabilities: { run: [python3] }\n",
    ),
    at: "command",
    message: 'Node "a" has both path and command',
    hint: "not both",
  },
  {
    name: "node that is not a map",
    yaml: `${HEAD}nodes:\n  a: ./nodes/a.ts\n`,
    at: "./nodes/a.ts",
    message: 'Expected a map for node "a"',
    hint: "Write a: { path: ./nodes/a.ts }",
  },
  // Commands and capabilities.
  {
    name: "command without capabilities.run",
    yaml: node("    command: [python3, ./nodes/x.py]\n"),
    at: "python3",
    message: 'Command node "a" runs "python3" but capabilities.run does not allow it',
    hint: "Add capabilities: { run: [python3] }",
  },
  {
    name: "command whose program is not in capabilities.run",
    yaml: node("    command: [python3, ./x.py]\n    capabilities: { run: [node] }\n"),
    at: "python3",
    message: 'runs "python3" but capabilities.run does not allow it',
    hint: 'Add "python3" to capabilities.run',
  },
  {
    name: "command written as a string",
    yaml: node('    command: "python3 ./x.py"\n    capabilities: { run: [python3] }\n'),
    at: '"python3',
    message: 'Expected a list for "command"',
    hint: "Write it as a list: command: [python3, ./x.py]",
  },
  {
    name: "net host with a scheme",
    yaml: node(
      '    path: ./nodes/a.ts\n    capabilities: { net: "https://api.github.com/repos" }\n',
    ),
    at: '"https',
    message: 'Host "https://api.github.com/repos" must not include a scheme',
    hint: 'Write "api.github.com"',
  },
  {
    name: "net host with a path",
    yaml: node("    path: ./nodes/a.ts\n    capabilities: { net: [github.com/api] }\n"),
    at: "github.com/api",
    message: "must not include a path",
    hint: 'Write "github.com"',
  },
  {
    name: "net host with a bad port",
    yaml: node("    path: ./nodes/a.ts\n    capabilities: { net: [localhost:99999] }\n"),
    at: "localhost",
    message: 'Invalid port in host "localhost:99999"',
    hint: "1 to 65535",
  },
  {
    name: "run entry with arguments",
    yaml: node('    path: ./nodes/a.ts\n    capabilities: { run: ["python3 -u"] }\n'),
    at: '"python3 -u"',
    message: 'Executable "python3 -u" contains whitespace',
    hint: "arguments belong in command:",
  },
  // Edges and the DAG.
  {
    name: "edge to an unknown node",
    yaml: edges("  - { from: a, to: bb }\n"),
    at: "bb",
    message: 'Unknown node "bb" in edge',
    hint: 'Did you mean "b"?',
  },
  {
    name: "edge without to",
    yaml: edges("  - { from: a }\n"),
    at: "{ from: a }",
    message: 'Edge has no "to"',
    hint: "{ from: a, to: b }",
  },
  {
    name: "cycle",
    yaml: `${HEAD}nodes:\n  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts }\n` +
      "  c: { path: ./nodes/c.ts }\nedges:\n  - { from: b, to: c }\n  - { from: a, to: b }\n" +
      "  - { from: c, to: a }\n",
    at: "{ from: c, to: a }",
    message: "Cycle: a → b → c → a",
    hint: "Remove one of its edges, e.g. { from: c, to: a }",
  },
  {
    name: "duplicate edge",
    yaml: edges("  - { from: a, to: b }\n  - { from: a, to: b }\n"),
    at: "{ from: a, to: b }",
    nth: 1,
    message: "Duplicate edge a → b",
    hint: "already declared on line 7",
  },
  {
    name: "self edge",
    yaml: edges("  - { from: a, to: a }\n"),
    at: "{ from: a, to: a }",
    message: 'Edge from "a" to itself',
    hint: "Remove this edge",
  },
  {
    name: "edges that are not a list",
    yaml: `${WF}edges: { from: a, to: b }\n`,
    at: "{ from: a, to: b }",
    message: 'Expected a list for "edges"',
    hint: "Write edges: [{ from: a, to: b }]",
  },
  {
    name: "onError naming an unknown node",
    yaml:
      `${HEAD}nodes:\n  a: { path: ./nodes/a.ts }\n  notify-failure: { path: ./nodes/notify-failure.ts }\n` +
      "onError: notify\n",
    at: "notify\n",
    message: 'onError names unknown node "notify"',
    hint: 'Did you mean "notify-failure"?',
  },
  {
    name: "edge from the onError node",
    yaml: `${WF}edges:\n  - { from: b, to: a }\nonError: b\n`,
    at: "b, to",
    message: 'Edge touches the onError node "b"',
    hint: "remove this edge",
  },
  // Durations, crons, versions, rates.
  {
    name: "duration without a unit",
    yaml: node("    path: ./nodes/a.ts\n    timeout: 10\n"),
    at: "10\n",
    message: 'Duration "10" has no unit',
    hint: 'Add a unit, e.g. "10s"',
  },
  {
    name: "duration in words",
    yaml: node("    path: ./nodes/a.ts\n    cache: 10 minutes\n"),
    at: "10 minutes",
    message: 'Invalid duration "10 minutes"',
    hint: '"1h30m"',
  },
  {
    name: "duration with units out of order",
    yaml: `${WF}config: { timeout: 30m1h }\n`,
    at: "30m1h",
    message: "units must go from largest to smallest",
    hint: 'Write e.g. "1h30m"',
  },
  {
    name: "timeout beyond what a timer can wait",
    yaml: node("    path: ./nodes/a.ts\n    timeout: 30d\n"),
    at: "30d",
    message: '"timeout" is too long',
    hint: "shorter duration",
  },
  {
    name: "cron hour out of range",
    yaml: cron("0 25 * * *"),
    at: "25",
    message: 'Invalid cron hour "25": must be * or a value in 0-23',
    hint: "5 fields",
  },
  {
    name: "cron with seconds",
    yaml: cron("0 0 9 * * *"),
    at: "0 0 9",
    message: "has 6 fields, expected 5 (seconds are not supported)",
    hint: "minute hour day-of-month month day-of-week",
  },
  {
    name: "cron day name",
    yaml: cron("0 9 * * MONDAY"),
    at: "MONDAY",
    message: 'Invalid cron day-of-week "MONDAY"',
    hint: "5 fields",
  },
  {
    name: "cron zero step",
    yaml: cron("*/0 * * * *"),
    at: "*/0",
    message: 'Invalid cron minute "*/0": the step must be a number from 1 to 60',
    hint: '"*/5"',
  },
  {
    name: "cron backwards range",
    yaml: cron("0 9 * * 5-1"),
    at: "5-1",
    message: "the range runs backwards",
    hint: '"1-5"',
  },
  {
    name: "cron list item out of range",
    yaml: cron("0 9 * JAN,FEB,13 *"),
    at: "13",
    message: 'Invalid cron month "13"',
    hint: "5 fields",
  },
  {
    name: "cron that never fires",
    yaml: cron("0 0 30 2 *"),
    at: '"0 0 30 2 *"',
    message: 'Cron schedule "0 0 30 2 *" never fires',
    hint: "February has no 30th",
  },
  {
    name: "cron with an unknown time zone",
    yaml: cron("0 9 * * *", "    timezone: Europe/Pariss\n"),
    at: "Europe/Pariss",
    message: 'Unknown time zone "Europe/Pariss"',
    hint: 'Did you mean "Europe/Paris"?',
  },
  {
    name: "version with a v prefix",
    yaml: `name: demo\nversion: v1.2.3\n${NODES}`,
    at: "v1.2.3",
    message: 'Invalid version "v1.2.3"',
    hint: 'Write version: "1.2.3"',
  },
  {
    name: "version as a bare major number",
    yaml: `name: demo\nversion: 2\n${NODES}`,
    at: "2\n",
    message: 'Invalid version "2"',
    hint: 'Write version: "2.0.0"',
  },
  {
    name: "version that is not a scalar",
    yaml: `name: demo\nversion: { major: 1 }\n${NODES}`,
    at: "{ major",
    message: 'Expected a version for "version", got a map',
    hint: 'Write version: "1.0.0"',
  },
  {
    name: "rate limit with an unknown unit",
    yaml: queue("    subject: events.push\n    rateLimit: 10/sec\n"),
    at: "10/sec",
    message: 'Invalid rate "10/sec"',
    hint: '"10/s"',
  },
  {
    name: "deadLetter without stream",
    yaml: queue("    subject: events.push\n    deadLetter: events.dlq\n"),
    at: "deadLetter",
    message: '"deadLetter" needs stream:',
    hint: "Add stream:",
  },
  {
    name: "invalid NATS subject",
    yaml: queue("    subject: events..push\n"),
    at: "events..push",
    message: 'Invalid NATS subject "events..push"',
    hint: "dot-separated tokens",
  },
  {
    name: "dead letters that the trigger would consume again",
    yaml: queue("    subject: events.>\n    stream: EVENTS\n"),
    at: "events.>",
    message: 'Dead-letter subject "events.dlq" matches the trigger subject "events.>"',
    hint: "Set deadLetter:",
  },
  {
    name: "queue trigger without subject",
    yaml: `${HEAD}triggers: [{ type: queue }]\n${NODES}`,
    at: "{ type: queue }",
    message: "Queue trigger has no subject",
    hint: "Add subject:",
  },
  // Types.
  {
    name: "retries as a word",
    yaml: node('    path: ./nodes/a.ts\n    retries: "two"\n'),
    at: '"two"',
    message: 'Expected an integer for "retries", got "two"',
    hint: "retries: 2",
  },
  {
    name: "negative retries in config",
    yaml: `${WF}config:\n  retries: -1\n`,
    at: "-1",
    message: '"retries" must be 0 to 100, got -1',
    hint: "retries: 2",
  },
  {
    name: "allowFailure as a string",
    yaml: node("    path: ./nodes/a.ts\n    allowFailure: yes\n"),
    at: "yes",
    message: 'Expected true or false for "allowFailure", got "yes"',
    hint: "allowFailure: true",
  },
  {
    name: "recordFetch as a string",
    yaml: node("    path: ./nodes/a.ts\n    recordFetch: always\n"),
    at: "always",
    message: 'Expected true or false for "recordFetch", got "always"',
    hint: "recordFetch: true",
  },
  {
    name: "config that is not a map",
    yaml: `${WF}config: [timeout]\n`,
    at: "[timeout]",
    message: "Expected a map for config",
    hint: "config: { timeout: 30s }",
  },
  {
    name: "deployment that is not a map",
    yaml: `${WF}deployment: yes\n`,
    at: "yes",
    message: "Expected a map for deployment",
    hint: "serviceAccount",
  },
  {
    name: "unknown concurrency strategy",
    yaml: `${WF}concurrency: { strategy: drop }\n`,
    at: "drop",
    message: 'Unknown strategy "drop"',
    hint: "append or replace",
  },
  {
    name: "backoff above maxBackoff",
    yaml: `${WF}config: { backoff: 1m, maxBackoff: 10s }\n`,
    at: "1m",
    message: '"backoff" (60000ms) exceeds "maxBackoff" (10000ms)',
    hint: "at most maxBackoff",
  },
  {
    name: "description that is not a string",
    yaml: `${WF}description: [a]\n`,
    at: "[a]",
    message: 'Expected a string for "description"',
    hint: "",
  },
  {
    name: "service without a scheme",
    yaml: `${WF}services:\n  slack: hooks.slack.com\n`,
    at: "hooks.slack.com",
    message: 'Service "slack" needs an absolute http(s) URL',
    hint: "slack: https://hooks.slack.com",
  },
  {
    name: "service URL with credentials",
    yaml: `${WF}services:\n  jira: https://me:pw@jira.example.com\n`,
    at: "https://me",
    message: 'Service "jira" URL contains credentials',
    hint: "secrets",
  },
  {
    name: "inputSchema with an unknown type",
    yaml: `${WF}inputSchema:\n  type: object\n  properties:\n    user: { type: strin }\n`,
    at: "strin",
    message: "Invalid inputSchema at /properties/user/type",
    hint: 'Did you mean "string"?',
  },
  {
    name: "inputSchema with a misspelt keyword",
    yaml: `${WF}inputSchema:\n  type: object\n  proprties: {}\n`,
    at: "proprties",
    message: 'unknown keyword: "proprties"',
    hint: 'Did you mean "properties"?',
  },
  {
    name: "inputSchema that is not a map",
    yaml: `${WF}inputSchema: object\n`,
    at: "object",
    message: "Expected a map for inputSchema",
    hint: "JSON Schema",
  },
];

for (const c of CASES) {
  Deno.test(`\`compileWorkflow()\` rejects ${c.name} with its position and a hint`, () => {
    const issues = issuesOf(c.yaml, c.files);
    const expected = c.at !== undefined
      ? positionOf(c.yaml, c.at, c.nth)
      : { line: c.line!, column: c.column! };
    const issue = issues.find((i) => i.message.includes(c.message));
    assert.ok(issue, `no issue mentions ${JSON.stringify(c.message)}: ${JSON.stringify(issues)}`);
    assert.equal(issue.file, c.file ?? "workflow.yaml");
    assert.deepEqual({ line: issue.line, column: issue.column }, expected);
    assert.ok(
      (issue.hint ?? "").includes(c.hint),
      `hint ${JSON.stringify(issue.hint)} lacks ${JSON.stringify(c.hint)}`,
    );
    assert.equal(issues.length, c.count ?? 1, JSON.stringify(issues, null, 1));
  });
}

Deno.test("`compileWorkflow()` reports every issue at once, sorted by position", () => {
  const yaml = `name: Bad Name\nversion: 1.0.0\nnodes:\n  a:\n    path: ./nodes/a.ts\n` +
    "    retry: 2\n  b: { path: ./nodes/none.ts }\nedges:\n  - { from: a, to: zz }\n";
  const issues = issuesOf(yaml);
  assert.deepEqual(issues.map((i) => [i.line, i.message]), [
    [1, 'Invalid workflow name "Bad Name": use kebab-case (a-z, 0-9 and inner dashes)'],
    [6, 'Unknown node key "retry"'],
    [7, "Node file not found: nodes/none.ts"],
    [9, 'Unknown node "zz" in edge'],
  ]);
});

Deno.test("`compileWorkflow()` lists node-file issues after workflow.yaml issues", () => {
  const yaml =
    `${HEAD}nodes:\n  a: { path: ./nodes/a.ts }\n  b: { path: ./nodes/b.ts, retries: x }\n`;
  const issues = issuesOf(yaml, { "nodes/a.ts": "// empty\n" });
  assert.deepEqual(issues.map((i) => i.file), ["workflow.yaml", "nodes/a.ts"]);
});

Deno.test("`parseWorkflow()` turns YAML syntax errors into located issues", () => {
  const table = [
    { yaml: "name: demo\nnodes: [a, b\n", line: 3, column: 1, hint: "Close the open bracket" },
    { yaml: "name: demo\nname: again\n", line: 2, column: 1, hint: "duplicate key" },
    { yaml: "name: demo\n\tversion: 1\n", line: 2, column: 1, hint: "tabs" },
  ];
  for (const { yaml, line, column, hint } of table) {
    const [issue, ...rest] = issuesOf(yaml);
    assert.ok(issue);
    assert.equal(issue.file, "workflow.yaml");
    assert.deepEqual({ line: issue.line, column: issue.column }, { line, column }, yaml);
    assert.match(issue.message, /^Invalid YAML: /);
    assert.ok(issue.hint?.includes(hint), `${issue.hint} lacks ${hint}`);
    assert.ok(rest.every((other) => other.line !== issue.line || other.column !== issue.column));
  }
});
