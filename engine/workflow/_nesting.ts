/**
 * A linear pre-check of how deeply a YAML text nests, before anything recursive (the YAML
 * parser, the located tree, schema compilation) sees it: a document nested deeper than
 * {@link MAX_NESTING} levels is refused with the line and column where it gets too deep,
 * instead of overflowing the call stack.
 *
 * It counts block nesting by indentation (and `- ` items that open on one line) and flow
 * nesting by brackets outside quotes and comments; block scalar (`|`, `>`) lines are skipped.
 *
 * @module
 */

import type { PositionedIssue } from "./_yaml_located.ts";

/** Deepest nesting accepted (maps, lists and flow collections together). */
export const MAX_NESTING = 200;

/**
 * The issue for the first place where `text` nests deeper than `max` levels, or undefined.
 *
 * @example
 * ```ts
 * import { checkNesting } from "./_nesting.ts";
 * checkNesting("a: [[[1]]]\n", 2)?.column; // 7
 * ```
 */
export function checkNesting(text: string, max = MAX_NESTING): PositionedIssue | undefined {
  const indents: number[] = [];
  let flow = 0;
  let blockScalarIndent = -1;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    let i = 0;
    while (line[i] === " ") i++;
    const blank = i >= line.length || line[i] === "#" || line[i] === "\r";
    if (blockScalarIndent >= 0) {
      if (blank || i > blockScalarIndent) continue;
      blockScalarIndent = -1;
    }
    if (blank) continue;
    if (flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1]! >= i) indents.pop();
      indents.push(i);
      // `- - a` and `- key:` open a level per dash on the same line.
      let j = i;
      while (line[j] === "-" && (line[j + 1] === " " || j + 1 === line.length)) {
        j += 2;
        while (line[j] === " ") j++;
        indents.push(j);
      }
      if (indents.length > max) return tooDeep(n + 1, j + 1, max);
    }
    let quote = "";
    let last = "";
    for (let c = i; c < line.length; c++) {
      const ch = line[c]!;
      if (quote) {
        if (ch === quote) {
          if (quote === "'" && line[c + 1] === "'") c++;
          else quote = "";
        } else if (ch === "\\" && quote === '"') c++;
        continue;
      }
      if (ch === "#" && (c === 0 || line[c - 1] === " " || line[c - 1] === "\t")) break;
      if ((ch === '"' || ch === "'") && (last === "" || /[\s,[{:]/.test(last))) {
        quote = ch;
      } else if (ch === "[" || ch === "{") {
        flow++;
        if (indents.length + flow > max) return tooDeep(n + 1, c + 1, max);
      } else if ((ch === "]" || ch === "}") && flow > 0) {
        flow--;
      } else if (
        flow === 0 && (ch === "|" || ch === ">") && /^[\s]*$|^[-+0-9]/.test(line.slice(c + 1)) &&
        (last === ":" || last === "-" || last === " ")
      ) {
        blockScalarIndent = i;
        break;
      }
      if (ch !== " ") last = ch;
      else if (last !== "") last = " ";
    }
  }
  return undefined;
}

function tooDeep(line: number, column: number, max: number): PositionedIssue {
  return {
    line,
    column,
    message: `Invalid YAML: the document nests deeper than ${max} levels here`,
    hint: "Flatten the structure: workflow.yaml needs far fewer levels",
  };
}
