import assert from "node:assert/strict";
import { parseWorkflow } from "./parse_workflow.ts";
import { WorkflowSyntaxError } from "../errors.ts";
import { locatePath, toPlain } from "./_located.ts";

const TEXT = `# demo
name: demo
version: 1.10
nodes:
  fetch:
    path: ./nodes/fetch.ts
    capabilities: { net: [api.github.com, "x.io"] }
edges:
  - { from: fetch, to: done }
empty:
`;

Deno.test("`parseWorkflow()` keeps the position of every key and value", () => {
  const parsed = parseWorkflow(TEXT, "workflow.yaml");
  assert.equal(parsed.file, "workflow.yaml");
  assert.equal(parsed.text, TEXT);
  const root = parsed.root!;
  assert.equal(root.kind, "map");
  assert.deepEqual(root.pos, { line: 2, column: 1 });
  const table: [path: (string | number)[], key: boolean, line: number, column: number][] = [
    [["name"], true, 2, 1],
    [["name"], false, 2, 7],
    [["version"], false, 3, 10],
    [["nodes", "fetch"], true, 5, 3],
    [["nodes", "fetch"], false, 6, 5],
    [["nodes", "fetch", "path"], false, 6, 11],
    [["nodes", "fetch", "capabilities", "net"], false, 7, 26],
    [["nodes", "fetch", "capabilities", "net", 1], false, 7, 43],
    [["edges"], false, 9, 3],
    [["edges", 0, "to"], false, 9, 24],
    // An absent value sits at its key.
    [["empty"], false, 10, 1],
  ];
  for (const [path, key, line, column] of table) {
    assert.deepEqual(locatePath(root, path, { key }), { line, column }, path.join("."));
  }
});

Deno.test("`parseWorkflow()` keeps each scalar's source text next to its value", () => {
  const root = parseWorkflow(TEXT, "workflow.yaml").root!;
  assert.equal(root.kind, "map");
  const version = root.entries.find((entry) => entry.key === "version")!.value;
  assert.deepEqual(version, {
    kind: "scalar",
    pos: { line: 3, column: 10 },
    value: 1.1,
    source: "1.10",
  });
  const empty = root.entries.find((entry) => entry.key === "empty")!.value;
  assert.deepEqual(empty, {
    kind: "scalar",
    pos: { line: 10, column: 1 },
    value: null,
    source: "",
  });
  assert.deepEqual(toPlain(root), {
    name: "demo",
    version: 1.1,
    nodes: {
      fetch: { path: "./nodes/fetch.ts", capabilities: { net: ["api.github.com", "x.io"] } },
    },
    edges: [{ from: "fetch", to: "done" }],
    empty: null,
  });
});

Deno.test("`parseWorkflow()` returns a null root for an empty document", () => {
  assert.equal(parseWorkflow("", "workflow.yaml").root, null);
  assert.equal(parseWorkflow("# only a comment\n", "workflow.yaml").root, null);
});

Deno.test("`parseWorkflow()` keeps __proto__ keys as data", () => {
  const root = parseWorkflow("config:\n  __proto__: { polluted: true }\n", "w.yaml").root!;
  const plain = toPlain(root) as { config: Record<string, unknown> };
  assert.deepEqual(Object.keys(plain.config), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("`parseWorkflow()` refuses aliases that expand exponentially", () => {
  const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
  }
  assert.throws(
    () => parseWorkflow(lines.join("\n") + "\n", "workflow.yaml"),
    (error: unknown) =>
      error instanceof WorkflowSyntaxError &&
      /aliases expand to more than 1,000,000 values/.test(error.issues[0]!.message),
  );
});

Deno.test("`parseWorkflow()` names the file it was given in syntax issues", () => {
  assert.throws(
    () => parseWorkflow("a: [1\n", "custom/flow.yaml"),
    (error: unknown) =>
      error instanceof WorkflowSyntaxError && error.issues[0]!.file === "custom/flow.yaml" &&
      error.message.startsWith("custom/flow.yaml:2:1: Invalid YAML"),
  );
});

/** A workflow whose `config:` nests `depth` levels in the given style. */
function nested(depth: number, style: "block" | "flow" | "dash"): string {
  const head = 'name: deep\nversion: "1.0.0"\nnodes:\n  a: { path: ./a.ts }\n';
  if (style === "flow") return `${head}config:\n  x: ${"[".repeat(depth)}1${"]".repeat(depth)}\n`;
  if (style === "dash") return `${head}config:\n  x:\n    ${"- ".repeat(depth)}1\n`;
  const lines = Array.from({ length: depth }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`);
  return `${head}config:\n${lines.join("\n")} 1\n`;
}

for (const style of ["block", "flow", "dash"] as const) {
  Deno.test(`\`parseWorkflow()\` refuses ${style} nesting past 200 levels with a located issue`, () => {
    for (const depth of [1_000, 20_000]) {
      assert.throws(
        () => parseWorkflow(nested(depth, style), "workflow.yaml"),
        (error: unknown) => {
          if (!(error instanceof WorkflowSyntaxError)) throw error;
          const [issue] = error.issues;
          assert.equal(error.issues.length, 1);
          assert.equal(issue!.file, "workflow.yaml");
          assert.match(
            issue!.message,
            /^Invalid YAML: the document nests deeper than 200 levels here$/,
          );
          // The line where the 201st level opens.
          const expected = style === "block" ? 5 + 200 : style === "flow" ? 6 : 7;
          assert.equal(issue!.line, expected);
          return true;
        },
      );
    }
    // 150 levels parse (inputSchema and config may nest, just not absurdly).
    const root = parseWorkflow(nested(150, style), "workflow.yaml").root;
    assert.equal(root?.kind, "map");
  });
}

Deno.test("`parseWorkflow()` does not count brackets in quotes, comments and block scalars", () => {
  const deep = "[".repeat(300);
  const text = [
    "name: demo",
    `a: "${deep}"`,
    `b: '${deep}'`,
    `c: 1 # ${deep}`,
    "d: |",
    `  ${deep}`,
    "e: >-",
    `    ${deep}`,
    "f: ok",
    "",
  ].join("\n");
  const root = parseWorkflow(text, "workflow.yaml").root;
  assert.equal(root?.kind === "map" && root.entries.length, 7);
});
