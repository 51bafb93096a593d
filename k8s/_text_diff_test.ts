import assert from "node:assert/strict";
import { unifiedDiff } from "./_text_diff.ts";

Deno.test("unifiedDiff() is empty for equal texts", () => {
  assert.equal(unifiedDiff("a\nb", "a\nb", ["a", "b"]), "");
});

Deno.test("unifiedDiff() shows a changed line with context and line numbers", () => {
  const a = ["1", "2", "3", "4", "5", "6", "7", "8"].join("\n");
  const b = ["1", "2", "3", "4", "FIVE", "6", "7", "8"].join("\n");
  assert.equal(
    unifiedDiff(a, b, ["v1/f", "v2/f"]),
    ["--- v1/f", "+++ v2/f", "@@ -2,7 +2,7 @@", " 2", " 3", " 4", "-5", "+FIVE", " 6", " 7", " 8"]
      .join("\n"),
  );
});

Deno.test("unifiedDiff() splits distant changes into separate hunks", () => {
  const lines = Array.from({ length: 20 }, (_, i) => String(i));
  const changed = [...lines];
  changed[1] = "one";
  changed[18] = "eighteen";
  const diff = unifiedDiff(lines.join("\n"), changed.join("\n"), ["a", "b"], 1);
  assert.deepEqual(diff.split("\n").filter((l) => l.startsWith("@@")), [
    "@@ -1,3 +1,3 @@",
    "@@ -18,3 +18,3 @@",
  ]);
});

Deno.test("unifiedDiff() shows an added file against an empty one", () => {
  assert.equal(
    unifiedDiff("", "x", ["/dev/null", "b/f"]),
    "--- /dev/null\n+++ b/f\n@@ -1,1 +1,1 @@\n-\n+x",
  );
});
