/**
 * The layering rules of docs/architecture.md, checked on the source: no product file over 500
 * lines, no import cycle among product files, and an import into another layer goes only
 * through that layer's `mod.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./_cli.ts";

/** The most lines a product file may have. */
const MAX_LINES = 500;
/** Directories that hold no product code (test support and end-to-end tests are not layers). */
const NOT_PRODUCT = new Set(["node_modules", "dist", "coverage", "tests", "testing", "examples"]);

/** Product files: TypeScript outside tests, testdata and the directories above, root-relative. */
async function productFiles(dir = ROOT): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const rel = relative(ROOT, path);
    if (entry.isDirectory) {
      if (entry.name.startsWith(".") || entry.name === "testdata") continue;
      if (dir === ROOT && NOT_PRODUCT.has(entry.name)) continue;
      files.push(...await productFiles(path));
    } else if (entry.isFile && /\.tsx?$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)) {
      files.push(rel);
    }
  }
  return files.sort();
}

// Statements at the start of a line (never the examples inside doc comments, which start with
// " * "): `import … from "x"`, `import "x"`, `export … from "x"`, and `import("x")` anywhere
// outside a comment line.
const STATIC_IMPORT =
  /^(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)?\s*from\s*["']([^"']+)["']|^import\s*["']([^"']+)["']|^import\s+(?:type\s+)?[\w$]+\s+from\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The relative specifiers a file imports (statically or dynamically), resolved root-relative. */
export function importsOf(file: string, source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(STATIC_IMPORT)) {
    specifiers.push((match[1] ?? match[2] ?? match[3])!);
  }
  const code = source.split("\n").filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)).join("\n");
  for (const match of code.matchAll(DYNAMIC_IMPORT)) specifiers.push(match[1]!);
  return specifiers
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => relative(ROOT, resolve(ROOT, dirname(file), specifier)));
}

/** The layer of a root-relative file: its top-level directory ("" for main.ts). */
function layerOf(file: string): string {
  const slash = file.indexOf("/");
  return slash < 0 ? "" : file.slice(0, slash);
}

/** Import cycles of a graph, each as its path (first node repeated at the end). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

async function productGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of await productFiles()) {
    graph.set(file, importsOf(file, await Deno.readTextFile(join(ROOT, file))));
  }
  return graph;
}

Deno.test("the architecture checks find cycles and read imports as written", () => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts", "d.ts"]],
    ["d.ts", []],
  ]);
  assert.deepEqual(findCycles(graph), [["a.ts", "b.ts", "c.ts", "a.ts"]]);
  assert.deepEqual(findCycles(new Map([["a.ts", ["b.ts"]], ["b.ts", []]])), []);
  const source = [
    'import { a, type B } from "./a.ts";',
    'import type {\n  C,\n} from "../engine/mod.ts";',
    'export { d } from "./d.ts";',
    'export * from "./e.ts";',
    'import "./f.ts";',
    'import x from "./x.json" with { type: "json" };',
    'import { Command } from "commander";',
    ' * import { Example } from "./in_a_doc_comment.ts";',
    'const lazy = await import("../k8s/mod.ts");',
  ].join("\n");
  assert.deepEqual(importsOf("server/s.ts", source), [
    "server/a.ts",
    "engine/mod.ts",
    "server/d.ts",
    "server/e.ts",
    "server/f.ts",
    "server/x.json",
    "k8s/mod.ts",
  ]);
});

Deno.test(`no product file has more than ${MAX_LINES} lines`, async () => {
  const tooLong: string[] = [];
  for (const file of await productFiles()) {
    const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n").length - 1;
    if (lines > MAX_LINES) tooLong.push(`${file}: ${lines} lines`);
  }
  assert.deepEqual(tooLong, [], `split these files (at most ${MAX_LINES} lines)`);
});

Deno.test("no import cycle among product files", async () => {
  const graph = await productGraph();
  assert.ok(graph.has("main.ts") && graph.has("engine/mod.ts"), "the walk found the product");
  const cycles = findCycles(graph).map((cycle) => cycle.join(" → "));
  assert.deepEqual(cycles, [], "import cycles");
});

Deno.test("a product file imports another layer only through its mod.ts", async () => {
  const graph = await productGraph();
  const wrong: string[] = [];
  for (const [file, imports] of graph) {
    for (const target of imports) {
      const layer = layerOf(target);
      if (layer === layerOf(file) || target === `${layer}/mod.ts`) continue;
      if (layer === "" && target === "deno.json") continue;
      wrong.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(wrong, [], "import these through the layer's mod.ts");
});
