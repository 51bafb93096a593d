/**
 * A line diff (longest common subsequence) rendered as unified-diff hunks, for
 * `versions --diff`.
 *
 * @module
 */

type Op = { kind: " " | "-" | "+"; line: string };

/** Unified diff of two texts with `context` lines around changes; "" when equal. */
export function unifiedDiff(a: string, b: string, labels: [string, string], context = 3): string {
  if (a === b) return "";
  const x = a.split("\n");
  const y = b.split("\n");
  const ops = diffLines(x, y);
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === " ") {
      i++;
      continue;
    }
    let start = Math.max(0, i - context);
    let end = i;
    // Extend while changes are within 2*context of each other.
    for (let j = i; j < ops.length; j++) {
      if (ops[j]!.kind !== " ") end = j;
      else if (j - end > 2 * context) break;
    }
    end = Math.min(ops.length, end + context + 1);
    const oldStart = 1 + ops.slice(0, start).filter((o) => o.kind !== "+").length;
    const newStart = 1 + ops.slice(0, start).filter((o) => o.kind !== "-").length;
    const body = ops.slice(start, end);
    const oldLen = body.filter((o) => o.kind !== "+").length;
    const newLen = body.filter((o) => o.kind !== "-").length;
    hunks.push(
      `@@ -${oldStart},${oldLen} +${newStart},${newLen} @@`,
      ...body.map((o) => `${o.kind}${o.line}`),
    );
    i = end;
    start = end;
  }
  return [`--- ${labels[0]}`, `+++ ${labels[1]}`, ...hunks].join("\n");
}

function diffLines(x: string[], y: string[]): Op[] {
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j]
        ? lcs[i + 1]![j + 1]! + 1
        : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      ops.push({ kind: " ", line: x[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      ops.push({ kind: "-", line: x[i++]! });
    } else {
      ops.push({ kind: "+", line: y[j++]! });
    }
  }
  while (i < n) ops.push({ kind: "-", line: x[i++]! });
  while (j < m) ops.push({ kind: "+", line: y[j++]! });
  return ops;
}
