import assert from "node:assert/strict";
import { describeWorkflow } from "../describe_workflow.ts";
import { DIAMOND, SINGLE } from "../testdata/_workflows.ts";
import { exampleInput, inputErrors, parseInputText, renderStartForm } from "./start_form.ts";
import { decode, tagsWith, textOf } from "./testdata/_markup.ts";

Deno.test("`parseInputText()` reads JSON, treats an empty field as {} and explains bad JSON", () => {
  assert.deepEqual(parseInputText(""), { ok: true, value: {} });
  assert.deepEqual(parseInputText("  \n"), { ok: true, value: {} });
  assert.deepEqual(parseInputText('{"a": [1]}'), { ok: true, value: { a: [1] } });
  assert.deepEqual(parseInputText("42"), { ok: true, value: 42 });
  const bad = parseInputText("{oops}");
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /^The input is not valid JSON: /);
});

Deno.test("`exampleInput()` fills required properties and defaults with typed placeholders", () => {
  const table: [unknown, Record<string, unknown>][] = [
    [undefined, {}],
    ["nonsense", {}],
    [{ type: "object" }, {}],
    [DIAMOND.inputSchema, { repo: "", limit: 5 }],
    [{
      type: "object",
      required: ["n", "flag", "tags", "opts", "when", "any"],
      properties: {
        n: { type: "integer", minimum: 3 },
        flag: { type: "boolean" },
        tags: { type: "array" },
        opts: { type: "object", required: ["x"], properties: { x: { type: "number" } } },
        when: { type: ["string", "null"], examples: ["today"] },
        any: {},
        optional: { type: "string" },
      },
    }, { n: 3, flag: false, tags: [], opts: { x: 0 }, when: "today", any: null }],
  ];
  for (const [schema, example] of table) assert.deepEqual(exampleInput(schema), example);
});

Deno.test("`inputErrors()` lists the schema errors of a 400, else the message", () => {
  const invalid = {
    error: {
      code: "invalid_input",
      message: "Cannot start run: …",
      details: { errors: ["/limit must be >= 1", " must have required property 'repo'"] },
    },
  };
  assert.deepEqual(inputErrors(invalid, "x"), [
    "/limit must be >= 1",
    " must have required property 'repo'",
  ]);
  assert.deepEqual(
    inputErrors({ error: { code: "queue_full", message: "Cannot queue run" } }, "x"),
    ["Cannot queue run"],
  );
  assert.deepEqual(inputErrors(undefined, "503 Service Unavailable"), ["503 Service Unavailable"]);
});

Deno.test("`renderStartForm()` links the hint and errors to the field and marks it invalid", () => {
  const info = describeWorkflow(DIAMOND);
  const clean = renderStartForm(info).value;
  assert.match(clean, /<label for="run-input">Run input \(JSON\)<\/label>/);
  assert.equal(tagsWith(clean, "aria-describedby", "run-input-hint run-input-errors").length, 1);
  assert.equal(tagsWith(clean, "aria-invalid").length, 0);
  assert.match(textOf(clean), /required: repo/);
  const field = /<textarea[^>]*>([\s\S]*?)<\/textarea>/.exec(clean)?.[1] ?? "";
  assert.equal(decode(field), '{\n  "repo": "",\n  "limit": 5\n}');
  const failed =
    renderStartForm(info, { text: "{}", errors: ["<must> have repo"], busy: true }).value;
  assert.equal(tagsWith(failed, "aria-invalid", "true").length, 1);
  assert.match(textOf(failed), /<must> have repo Starting…/);
  assert.match(failed, /role="alert"/);
  assert.match(textOf(renderStartForm(describeWorkflow(SINGLE))), /Any JSON value/);
});
