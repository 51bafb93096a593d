import assert from "node:assert/strict";
import { compileText, issuesOf, positionOf } from "../testdata/_compile_helpers.ts";
import type { ConcurrencySettings } from "../workflow_model.ts";
import {
  concurrencyKeyOf,
  EMPTY_CONCURRENCY_KEY,
  parseJsonPointer,
  resolveJsonPointer,
} from "./concurrency_key.ts";

const WF = "name: demo\nversion: 1.0.0\nnodes:\n  a: { path: ./nodes/a.ts }\n";

Deno.test("`parseJsonPointer()` unescapes tokens and rejects malformed pointers", () => {
  assert.deepEqual(parseJsonPointer(""), []);
  assert.deepEqual(parseJsonPointer("/tenant"), ["tenant"]);
  assert.deepEqual(parseJsonPointer("/a~1b/c~0d/"), ["a/b", "c~d", ""]);
  assert.deepEqual(parseJsonPointer("/~01"), ["~1"]);
  for (const bad of ["tenant", "/a~2", "/a~", "#/a"]) {
    assert.throws(() => parseJsonPointer(bad), SyntaxError, bad);
  }
});

Deno.test("`resolveJsonPointer()` follows own properties and array indexes only", () => {
  const doc = { a: { "b/c": [10, { d: "x" }] }, "": 1 };
  const table: [string, unknown][] = [
    ["/a/b~1c/0", 10],
    ["/a/b~1c/1/d", "x"],
    ["/", 1],
    ["/a/b~1c/01", undefined],
    ["/a/b~1c/-", undefined],
    ["/a/b~1c/9", undefined],
    ["/missing/deeper", undefined],
    ["/constructor", undefined],
    ["/a/__proto__", undefined],
  ];
  for (const [pointer, expected] of table) {
    assert.deepEqual(resolveJsonPointer(doc, pointer), expected, pointer);
  }
});

Deno.test("`concurrencyKeyOf()` maps inputs to key values; unusable values share the empty key", () => {
  const settings: ConcurrencySettings = {
    maxRuns: 1,
    queueLimit: 1,
    strategy: "append",
    startDelayMs: 0,
    key: "/tenant",
  };
  const table: [unknown, string][] = [
    [{ tenant: "acme" }, "acme"],
    [{ tenant: 7 }, "7"],
    [{ tenant: "7" }, "7"],
    [{ tenant: true }, "true"],
    [{ tenant: "" }, EMPTY_CONCURRENCY_KEY],
    [{}, EMPTY_CONCURRENCY_KEY],
    [{ tenant: null }, EMPTY_CONCURRENCY_KEY],
    [{ tenant: { id: 1 } }, EMPTY_CONCURRENCY_KEY],
    [{ tenant: ["a"] }, EMPTY_CONCURRENCY_KEY],
    ["not an object", EMPTY_CONCURRENCY_KEY],
    [null, EMPTY_CONCURRENCY_KEY],
  ];
  for (const [input, key] of table) {
    assert.equal(concurrencyKeyOf(settings, input), key, JSON.stringify(input));
  }
  assert.equal(concurrencyKeyOf({ ...settings, key: undefined }, { tenant: "acme" }), "");
  assert.equal(concurrencyKeyOf(undefined, { tenant: "acme" }), "");
});

Deno.test("`compileWorkflow()` compiles concurrency.key and maxRunsTotal", () => {
  const workflow = compileText(
    `${WF}concurrency: { key: /tenant/id, maxRuns: 2, maxRunsTotal: 5, strategy: replace }\n`,
  );
  assert.deepEqual(workflow.concurrency, {
    maxRuns: 2,
    queueLimit: 100,
    strategy: "replace",
    startDelayMs: 0,
    key: "/tenant/id",
    maxRunsTotal: 5,
  });
  // Open schemas (no additionalProperties: false) and $refs are not judged.
  for (
    const schema of [
      "{ type: object, properties: { n: { type: number } } }",
      '{ $ref: "#/definitions/in", definitions: { in: { type: object } } }',
    ]
  ) {
    const open = compileText(`${WF}inputSchema: ${schema}\nconcurrency: { key: /tenant }\n`);
    assert.equal(open.concurrency?.key, "/tenant", schema);
  }
  const keyOnly = compileText(`${WF}concurrency: { key: /tenant }\n`);
  assert.equal(keyOnly.concurrency?.key, "/tenant");
  assert.equal(keyOnly.concurrency?.maxRunsTotal, undefined);
});

Deno.test("`compileWorkflow()` rejects bad concurrency keys and totals with position and hint", () => {
  const table: { yaml: string; at: string; message: string; hint: string }[] = [
    {
      yaml: `${WF}concurrency: { key: tenant.id }\n`,
      at: "tenant.id",
      message: 'Invalid concurrency key "tenant.id": a JSON Pointer starts with "/"',
      hint: "Write key: /tenant/id",
    },
    {
      yaml: `${WF}concurrency: { key: "/a~2b" }\n`,
      at: '"/a~2b"',
      message: 'Invalid concurrency key "/a~2b": "~" must be followed by 0 or 1',
      hint: '"~1" for "/"',
    },
    {
      yaml: `${WF}concurrency: { key: "" }\n`,
      at: '""',
      message: 'Empty concurrency key ""',
      hint: "Write key: /tenant",
    },
    {
      yaml: `${WF}concurrency: { key: 3 }\n`,
      at: "3 }",
      message: 'Expected a string for "key"',
      hint: "/tenant",
    },
    {
      yaml: `${WF}concurrency:\n  maxRuns: 2\n  maxRunsTotal: 4\n`,
      at: "maxRunsTotal",
      message: '"maxRunsTotal" needs "key"',
      hint: "Add key: /tenant",
    },
    {
      yaml: `${WF}concurrency: { key: /t, maxRunsTotal: 0 }\n`,
      at: "0 }",
      message: '"maxRunsTotal" must be 1 to 100000, got 0',
      hint: "Write a whole number",
    },
    {
      yaml: `${WF}concurrency: { key: /t, maxRunsTotal: 2.5 }\n`,
      at: "2.5",
      message: 'Expected an integer for "maxRunsTotal"',
      hint: "Write a whole number",
    },
    {
      yaml: `${WF}concurrency: { key: /t, maxRuns: 4, maxRunsTotal: 2 }\n`,
      at: "2 }",
      message: '"maxRunsTotal" (2) is below "maxRuns" (4)',
      hint: "Make maxRunsTotal at least 4",
    },
    {
      yaml: `${WF}inputSchema:\n  type: object\n  additionalProperties: false\n` +
        "  properties: { tenant: { type: string }, n: { type: number } }\n" +
        "concurrency: { key: /tennant }\n",
      at: "/tennant",
      message:
        'Concurrency key "/tennant" can never have a value: inputSchema allows only "tenant", "n" at "/"',
      hint: "Did you mean key: /tenant?",
    },
    {
      yaml: `${WF}inputSchema:\n  type: object\n  properties:\n    org:\n` +
        "      type: object\n      additionalProperties: false\n      properties: { id: { type: string } }\n" +
        "concurrency: { key: /org/name }\n",
      at: "/org/name",
      message: 'inputSchema allows only "id" at "/org"',
      hint: "Point the key at a field the input has",
    },
    {
      yaml: `${WF}concurrency: { keys: /t }\n`,
      at: "keys",
      message: 'Unknown concurrency key "keys"',
      hint: 'Did you mean "key"?',
    },
  ];
  for (const row of table) {
    const issues = issuesOf(row.yaml);
    assert.equal(issues.length, 1, JSON.stringify(issues));
    const issue = issues[0]!;
    assert.ok(issue.message.includes(row.message), `${issue?.message} lacks ${row.message}`);
    assert.ok(issue.hint?.includes(row.hint), `${issue.hint} lacks ${row.hint}`);
    assert.equal(issue.file, "workflow.yaml");
    assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(row.yaml, row.at));
  }
});
