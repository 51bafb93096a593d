/**
 * npm:yaml document → located tree. The general path of `parseWorkflow()`: every YAML feature
 * (anchors, merge keys, block scalars, tags) and every syntax error goes through here.
 *
 * @module
 */

import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { WorkflowIssue } from "../errors.ts";
import type { LocatedEntry, LocatedNode, SourcePosition } from "./located_types.ts";

/** An issue before its file is known. */
export type PositionedIssue = Omit<WorkflowIssue, "file">;

/** Expanded size (nodes, aliases counted at their full size) beyond which aliases are refused. */
const MAX_EXPANDED_NODES = 1_000_000;

const HINTS: Record<string, string> = {
  BAD_INDENT: "Indent nested entries consistently with spaces",
  TAB_AS_INDENT: "Indent with spaces; YAML does not allow tabs for indentation",
  MISSING_CHAR: "Close the open bracket, brace or quote, or add the missing `:` after the key",
  MULTILINE_IMPLICIT_KEY: "Put the key and its `:` on one line",
  BLOCK_AS_IMPLICIT_KEY: "Put the key and its `:` on one line",
  UNEXPECTED_TOKEN: "Check the indentation and that every key is followed by `: `",
  DUPLICATE_KEY: "Remove or rename the duplicate key",
  BAD_ALIAS: "Define the anchor (`&name`) before using the alias (`*name`)",
  MULTIPLE_DOCS: "Keep one YAML document per file: remove the extra `---`",
  BAD_DQ_ESCAPE: 'Escape backslashes in double quotes as "\\\\" or use single quotes',
  BAD_SCALAR_START: 'Quote the value, e.g. "@value"',
  KEY_OVER_1024_CHARS: "Shorten the key",
};

/** Parses YAML into a located tree, or returns every syntax issue. */
export function yamlToLocated(
  text: string,
): { root: LocatedNode | null } | { issues: PositionedIssue[] } {
  const lineCounter = new LineCounter();
  // uniqueKeys is checked below in O(n); yaml's own check is quadratic in the map size.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    const seen = new Set<string>();
    const issues: PositionedIssue[] = [];
    for (const error of doc.errors) {
      const { line, column } = at(error.pos[0]);
      if (seen.has(`${line}:${column}`)) continue;
      seen.add(`${line}:${column}`);
      const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      issues.push({
        line,
        column,
        message: `Invalid YAML: ${message}`,
        hint: /end with a [\]}]/.test(message)
          ? "Close the open bracket or brace, or indent its continuation lines"
          : HINTS[error.code] ?? `Check the YAML syntax near line ${line}`,
      });
    }
    return { issues };
  }
  const converter = new Converter(doc, text, at);
  try {
    let root = doc.contents === null ? null : converter.convert(doc.contents, at(0));
    // A document of only `---` holds an empty scalar: it is as empty as "".
    if (root?.kind === "scalar" && root.source === "") root = null;
    if (converter.issues.length > 0) return { issues: converter.issues };
    if (root !== null && converter.sizeOf(root) > MAX_EXPANDED_NODES) {
      return {
        issues: [{
          line: 1,
          column: 1,
          message: "Invalid YAML: aliases expand to more than 1,000,000 values",
          hint: "Use fewer nested aliases (`*name`)",
        }],
      };
    }
    return { root };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return {
      issues: [{
        line: 1,
        column: 1,
        message: "Invalid YAML: the document is nested too deeply",
        hint: "Flatten the structure",
      }],
    };
  }
}

class Converter {
  readonly issues: PositionedIssue[] = [];
  readonly #memo = new Map<unknown, LocatedNode>();
  readonly #inProgress = new Set<unknown>();
  readonly #sizes = new Map<LocatedNode, number>();

  constructor(
    readonly doc: Document.Parsed,
    readonly text: string,
    readonly at: (offset: number) => SourcePosition,
  ) {}

  sizeOf(node: LocatedNode): number {
    return this.#sizes.get(node) ?? 1;
  }

  convert(node: unknown, fallback: SourcePosition): LocatedNode {
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (target === undefined || this.#inProgress.has(target)) {
        this.#issue(node.range?.[0], `Invalid YAML: alias "*${node.source}" cannot be resolved`);
        return { kind: "scalar", pos: fallback, value: null, source: "" };
      }
      return this.#memo.get(target) ?? this.convert(target, fallback);
    }
    const range = (node as { range?: [number, number, number] } | null)?.range;
    const pos = range ? this.at(range[0]) : fallback;
    if (isScalar(node)) {
      const source = range ? this.text.slice(range[0], range[1]) : "";
      return { kind: "scalar", pos: source === "" ? fallback : pos, value: node.value, source };
    }
    if (isSeq(node) || isMap(node)) {
      this.#inProgress.add(node);
      const located: LocatedNode = isSeq(node)
        ? { kind: "seq", pos, items: node.items.map((item) => this.convert(item, pos)) }
        : { kind: "map", pos, entries: this.#entries(node.items) };
      this.#inProgress.delete(node);
      this.#memo.set(node, located);
      let size = 1;
      if (located.kind === "seq") { for (const item of located.items) size += this.sizeOf(item); }
      else for (const entry of located.entries) size += this.sizeOf(entry.value);
      this.#sizes.set(located, size);
      return located;
    }
    return { kind: "scalar", pos, value: null, source: "" };
  }

  #entries(pairs: { key: unknown; value: unknown }[]): LocatedEntry[] {
    const entries: LocatedEntry[] = [];
    const explicit = new Set<string>();
    for (const pair of pairs) {
      const key = this.#key(pair.key);
      if (key === "<<") continue;
      if (explicit.has(key)) {
        const offset = (pair.key as { range?: number[] } | null)?.range?.[0];
        this.#issue(
          offset,
          `Invalid YAML: map keys must be unique, "${key}" repeats`,
          "Remove or rename the duplicate key",
        );
      }
      explicit.add(key);
    }
    const merged = new Set<string>();
    for (const pair of pairs) {
      const key = this.#key(pair.key);
      const keyRange = (pair.key as { range?: number[] } | null)?.range;
      const keyPos = keyRange ? this.at(keyRange[0]!) : this.at(0);
      const value = this.convert(pair.value, keyPos);
      if (key !== "<<") {
        entries.push({ key, keyPos, value });
        continue;
      }
      // YAML merge keys: `<<: *defaults` or `<<: [*a, *b]`; explicit keys win.
      const sources = value.kind === "seq" ? value.items : [value];
      for (const source of sources) {
        if (source.kind !== "map") {
          this.#issue(keyRange?.[0], "Invalid YAML: `<<` must merge a map or a list of maps");
          continue;
        }
        for (const entry of source.entries) {
          if (explicit.has(entry.key) || merged.has(entry.key)) continue;
          merged.add(entry.key);
          entries.push(entry);
        }
      }
    }
    return entries;
  }

  #key(key: unknown): string {
    if (key === null || key === undefined) return "";
    if (isScalar(key)) {
      if (typeof key.value === "string") return key.value;
      const range = key.range;
      return range ? this.text.slice(range[0], range[1]) : String(key.value);
    }
    return JSON.stringify(key);
  }

  #issue(offset: number | undefined, message: string, hint?: string): void {
    const { line, column } = this.at(offset ?? 0);
    this.issues.push({ line, column, message, hint: hint ?? `Check the YAML near line ${line}` });
  }
}
