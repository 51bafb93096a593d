/**
 * Label and field selectors with the API server's grammar: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
 * `a in (x,y)`, `a notin (x)`; field selectors support `=`, `==` and `!=`.
 *
 * @module
 */

import { badRequest } from "./_status.ts";

type Requirement = (labels: Record<string, string>) => boolean;

/** Parses a label selector into a predicate over an object's labels. */
export function parseLabelSelector(selector: string | null): Requirement {
  if (!selector || selector.trim() === "") return () => true;
  const reqs = splitTopLevel(selector).map(parseRequirement);
  return (labels) => reqs.every((r) => r(labels));
}

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current.trim());
  return parts.filter((p) => p !== "");
}

function parseRequirement(req: string): Requirement {
  let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
  if (m) {
    const [, key, op, list] = m;
    const values = list!.split(",").map((v) => v.trim());
    return op === "in"
      ? (l) => l[key!] !== undefined && values.includes(l[key!]!)
      : (l) => l[key!] === undefined || !values.includes(l[key!]!);
  }
  m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(req);
  if (m) {
    const [, key, op, value] = m;
    return op === "!=" ? (l) => l[key!] !== value : (l) => l[key!] === value;
  }
  m = /^(!?)([\w./-]+)$/.exec(req);
  if (m) {
    const [, not, key] = m;
    return not ? (l) => l[key!] === undefined : (l) => l[key!] !== undefined;
  }
  throw badRequest(`unable to parse requirement: found '${req}', expected: label selector`);
}

/** Parses a field selector into a predicate over an object. */
export function parseFieldSelector(
  selector: string | null,
): (object: Record<string, unknown>) => boolean {
  if (!selector || selector.trim() === "") return () => true;
  const reqs = selector.split(",").map((req) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(req.trim());
    if (!m) throw badRequest(`invalid field selector: '${req}'`);
    const [, path, op, value] = m;
    return (o: Record<string, unknown>) => {
      const actual = String(
        path!.split(".").reduce<unknown>(
          (v, k) => (v as Record<string, unknown> | undefined)?.[k],
          o,
        ) ?? "",
      );
      return op === "!=" ? actual !== value : actual === value;
    };
  });
  return (o) => reqs.every((r) => r(o));
}
