import assert from "node:assert/strict";
import { canonicalJson, jsonDiff } from "./_json_diff.ts";

Deno.test("`canonicalJson()` sorts keys at every depth and drops undefined fields", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } }),
    JSON.stringify({ a: { d: [{ y: 2, z: 1 }] }, b: 1 }, null, 2),
  );
});

Deno.test("`jsonDiff()` marks changed lines with -/+ and keeps unchanged ones", () => {
  assert.equal(
    jsonDiff({ a: 1, b: "x" }, { a: 2, b: "x" }),
    [
      "--- expected",
      "+++ actual",
      " {",
      '-  "a": 1,',
      '+  "a": 2,',
      '   "b": "x"',
      " }",
    ].join("\n"),
  );
});

Deno.test("`jsonDiff()` elides long unchanged runs but keeps three lines of context", () => {
  const expected = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${10 + i}`, i]));
  const actual = { ...expected, k29: "changed" };
  const lines = jsonDiff(expected, actual).split("\n");
  assert.deepEqual(lines.slice(0, 3), ["--- expected", "+++ actual", "@@ 17 unchanged lines @@"]);
  assert.deepEqual(lines.slice(3), [
    '   "k26": 16,',
    '   "k27": 17,',
    '   "k28": 18,',
    '-  "k29": 19',
    '+  "k29": "changed"',
    " }",
  ]);
});

Deno.test("`jsonDiff()` shows a missing actual value as undefined", () => {
  assert.equal(
    jsonDiff({ a: 1 }, undefined),
    ["--- expected", "+++ actual", "-{", '-  "a": 1', "-}", "+undefined"].join("\n"),
  );
});
