import assert from "node:assert/strict";
import { validateInput } from "./validate_input.ts";
import { InputValidationError } from "../errors.ts";
import { dag } from "../../testing/mod.ts";

const schema = {
  type: "object",
  properties: { name: { type: "string" }, count: { type: "integer", minimum: 1 } },
  required: ["name"],
  additionalProperties: false,
};

Deno.test("`validateInput()` lists every schema error readably", () => {
  const table: { input: unknown; errors: string[] }[] = [
    { input: { name: 5 }, errors: ["/name must be string"] },
    { input: {}, errors: ["/ must have required property 'name'"] },
    { input: "x", errors: ["/ must be object"] },
    {
      input: { name: "a", count: 0, extra: true },
      errors: ['/ must NOT have additional properties "extra"', "/count must be >= 1"],
    },
  ];
  const workflow = dag({ a: [] }, { inputSchema: schema });
  for (const { input, errors } of table) {
    assert.throws(
      () => validateInput(workflow, input),
      (e: unknown) => {
        assert.ok(e instanceof InputValidationError);
        assert.deepEqual(e.errors, errors);
        assert.match(e.message, /^Cannot start run: input does not match inputSchema: /);
        return true;
      },
    );
  }
});

Deno.test("`validateInput()` accepts valid input and anything without a schema", () => {
  validateInput(dag({ a: [] }, { inputSchema: schema }), { name: "ada", count: 2 });
  validateInput(dag({ a: [] }), Symbol("anything"));
});

Deno.test("`validateInput()` reports an invalid schema as a TypeError", () => {
  const workflow = dag({ a: [] }, { inputSchema: { type: "no-such-type" } });
  assert.throws(() => validateInput(workflow, {}), (e: Error) => {
    return e instanceof TypeError && /inputSchema of workflow "test-flow"/.test(e.message);
  });
});

Deno.test("`validateInput()` compiles the same $id for two workflow objects", () => {
  const withId = { $id: "https://example.com/input", type: "string" };
  validateInput(dag({ a: [] }, { inputSchema: withId }), "x");
  assert.throws(() => validateInput(dag({ a: [] }, { inputSchema: withId }), 1), /must be string/);
});
