/**
 * A readable, unified-style diff of two JSON values, for fixture mismatches.
 *
 * @module
 */

/** Unchanged lines kept around each change. */
const CONTEXT = 3;
/** Beyond this many lines per side the diff falls back to whole documents (LCS is O(n·m)). */
const MAX_LINES = 4000;

/** JSON with object keys sorted, so key order never shows up as a difference. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) ?? "undefined";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

type Op = { kind: " " | "-" | "+"; line: string };

/**
 * Lines of `--- expected` / `+++ actual` then hunks: ` ` unchanged, `-` only in expected, `+`
 * only in actual; runs of unchanged lines longer than the context are elided with `@@ … @@`.
 *
 * @example
 * ```ts
 * jsonDiff({ a: 1 }, { a: 2 });
 * // --- expected\n+++ actual\n {\n-  "a": 1\n+  "a": 2\n }
 * ```
 */
export function jsonDiff(expected: unknown, actual: unknown): string {
  const a = canonicalJson(expected).split("\n");
  const b = canonicalJson(actual).split("\n");
  const ops = a.length > MAX_LINES || b.length > MAX_LINES
    ? [
      ...a.map((line) => ({ kind: "-", line }) as Op),
      ...b.map((line) => ({ kind: "+", line }) as Op),
    ]
    : diffLines(a, b);
  return ["--- expected", "+++ actual", ...hunks(ops)].join("\n");
}

/** Longest-common-subsequence line diff. */
function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i..] and b[j..], flattened.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => lcs[i * (m + 1) + j] ?? 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j]
        ? at(i + 1, j + 1) + 1
        : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i++] ?? "" });
      j++;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ops.push({ kind: "-", line: a[i++] ?? "" });
    } else {
      ops.push({ kind: "+", line: b[j++] ?? "" });
    }
  }
  while (i < n) ops.push({ kind: "-", line: a[i++] ?? "" });
  while (j < m) ops.push({ kind: "+", line: b[j++] ?? "" });
  return ops;
}

/** Keeps changed lines with {@link CONTEXT} lines around them. */
function hunks(ops: Op[]): string[] {
  const keep = new Array<boolean>(ops.length).fill(false);
  ops.forEach((op, index) => {
    if (op.kind === " ") return;
    const from = Math.max(0, index - CONTEXT);
    const to = Math.min(ops.length - 1, index + CONTEXT);
    for (let k = from; k <= to; k++) keep[k] = true;
  });
  const out: string[] = [];
  let elided = 0;
  ops.forEach((op, index) => {
    if (!keep[index]) {
      elided++;
      return;
    }
    if (elided > 0) out.push(`@@ ${elided} unchanged ${elided === 1 ? "line" : "lines"} @@`);
    elided = 0;
    out.push(`${op.kind}${op.line}`);
  });
  if (elided > 0) out.push(`@@ ${elided} unchanged ${elided === 1 ? "line" : "lines"} @@`);
  return out;
}
