import assert from "node:assert/strict";
import { parseFastYaml } from "./_fast_yaml.ts";
import { yamlToLocated } from "./_yaml_located.ts";

function viaYaml(text: string) {
  const result = yamlToLocated(text);
  assert.ok("root" in result, `npm:yaml rejects ${JSON.stringify(text)}`);
  return result.root;
}

const ACCEPTED = [
  Deno.readTextFileSync(new URL("../testdata/compile-good/workflow.yaml", import.meta.url)),
  "a: 1\nb: [1, 2, {c: d}]\n",
  "key:\n- a\n- b\nk2: 3\n",
  "- a: 1\n  b: 2\n-   c: 3\n    d: [x]\n- plain words here\n",
  "a:\n  b:\n    c: 1.10\n  d: ~\ne:\n",
  "'q': 'it''s'\n\"d\": \"x y: z # not a comment\"\n",
  "a: b # c\nx: 0x1F\ny: 0o17\nz: .inf\nw: -.5e3\nv: TRUE\nu: null\nt: -12\ns: +3\nr: .NaN\n",
  "---\na: 1\n",
  "a: {}\nb: []\nc: { x: [a, 'b', \"c\"], y: { z: 1 } }\n",
  "a: https://x.com/y?z=1#frag\nb: a#b\nc: 1_000\nd: 1e3\ne: 0b1\nf: 12:30\n",
  "  indented: root\n  second: 2\n",
  "list:\n  - [1, 2]\n  - {a: b}\n  - 'q'\n  - -1\n  - yes\n  - ~\n",
  "a:    spaced   \nb: 'trailing'   # c\n# comment\n   # indented comment\nc: x\n",
  "nodes:\n  n0: { path: ./nodes/n.ts }\n  n1:\n    path: ./x.ts\nedges:\n  - { from: n0, to: n1 }\n",
  "1.0: number key\ntrue: bool key\nnull: null key\n",
  "a: { url: https://x.io:8080/p, b: c d e }\n",
];

const DECLINED = [
  "a: &x 1\nb: *x\n", // anchors and aliases
  "a: !!str 1\n", // tags
  "a: |\n  block\n", // block scalars
  "a: >\n  folded\n",
  "a: multi\n  line plain\n", // multi-line plain scalar
  "a: [1,\n  2]\n", // multi-line flow
  'a: "esc\\n"\n', // escapes
  "a:\tb\n", // tabs
  "a: 1\r\nb: 2\r\n", // CR
  "a: 1\na: 2\n", // duplicate keys
  "a: 1\n---\nb: 2\n", // several documents
  "a: [1, 2\n", // syntax error
  "a: b: c\n",
  "- - nested\n",
  "a:\n  <<: {b: 1}\n", // merge keys
  "? complex\n: key\n",
  "a: { b }\n", // flow key without value
  "a: [1, 2,]\n", // trailing comma
  "a: -\n",
  "plain root scalar\n",
  "a:\n    b: 1\n  c: 2\n", // bad indentation
];

Deno.test("`parseFastYaml()` builds the same tree as npm:yaml", () => {
  for (const text of ACCEPTED) {
    const fast = parseFastYaml(text);
    assert.notEqual(fast, undefined, `declined ${JSON.stringify(text)}`);
    assert.deepEqual(fast, viaYaml(text), JSON.stringify(text));
  }
});

Deno.test("`parseFastYaml()` declines what it does not handle", () => {
  for (const text of DECLINED) {
    assert.equal(parseFastYaml(text), undefined, JSON.stringify(text));
  }
});

Deno.test("`parseFastYaml()` returns null for an empty document, like npm:yaml", () => {
  for (const text of ["", "\n\n", "# just a comment\n", "---\n"]) {
    assert.equal(parseFastYaml(text), null, JSON.stringify(text));
    assert.equal(viaYaml(text), null);
  }
});

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCALARS = [
  "word",
  "two words",
  "1",
  "1.0",
  "1.10",
  "-3",
  "0x1A",
  "0o7",
  "1e5",
  ".5",
  "~",
  "null",
  "Null",
  "true",
  "False",
  "yes",
  "'single'",
  "'it''s'",
  '"double"',
  '"with: colon"',
  "'#hash'",
  "a#b",
  "./nodes/x.ts",
  "https://a.b/c",
  "10/s",
  '"0 9 * * *"',
  "''",
  "-x",
  ".inf",
  "2024-01-01",
];

function generate(next: () => number, depth: number, indent: string, flow: boolean): string {
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const roll = next();
  if (depth === 0 || roll < 0.4) return pick(SCALARS);
  const size = 1 + Math.floor(next() * 3);
  if (flow || roll < 0.55) {
    const inner = Array.from({ length: size }, () => generate(next, depth - 1, "", true));
    return next() < 0.5
      ? `[${inner.join(", ")}]`
      : `{ ${inner.map((value, i) => `k${i}: ${value}`).join(", ")} }`;
  }
  const child = `${indent}  `;
  if (roll < 0.75) {
    return "\n" + Array.from({ length: size }, () => {
      const value = generate(next, depth - 1, child, false);
      return `${indent}- ${value.startsWith("\n") ? `nested:${value}` : value}`;
    }).join("\n");
  }
  return "\n" + Array.from({ length: size }, (_, i) => {
    const value = generate(next, depth - 1, child, false);
    return `${indent}key${i}:${value.startsWith("\n") ? value : ` ${value}`}`;
  }).join("\n");
}

Deno.test("`parseFastYaml()` agrees with npm:yaml on generated documents", () => {
  const next = random(42);
  let accepted = 0;
  for (let i = 0; i < 500; i++) {
    const text = `root:${generate(next, 4, "  ", false).replace(/^(?!\n)/, " ")}\n`;
    const fast = parseFastYaml(text);
    if (fast === undefined) continue;
    accepted++;
    assert.deepEqual(fast, viaYaml(text), text);
  }
  // Most generated documents are within the fast path's subset.
  assert.ok(accepted > 400, `only ${accepted} of 500 documents took the fast path`);
});
