/**
 * A linear parser for the plain YAML that large (often generated) workflows are written in:
 * block maps and lists, one-line flow collections, one-line plain and quoted scalars,
 * comments. npm:yaml takes ~0.5 s for a 10,000-node workflow; this takes a few milliseconds.
 *
 * It declines (returns undefined) on anything else — anchors, tags, block scalars, multi-line
 * scalars or flows, escapes, duplicate keys, tabs, CR, any syntax error — and the caller then
 * uses npm:yaml. Plain scalars resolve through npm:yaml's own core-schema tags, and a
 * differential test checks that both paths build the same tree.
 *
 * @module
 */

import { Document, isScalar } from "yaml";
import type { LocatedEntry, LocatedMap, LocatedNode, LocatedSeq } from "./located_types.ts";

interface ScalarTag {
  default?: boolean | "key";
  test?: RegExp;
  resolve?: (value: string, onError: (message: string) => void, options: object) => unknown;
}
const CORE_TAGS = (new Document().schema.tags as ScalarTag[]).filter((tag) =>
  tag.default === true && tag.test !== undefined && tag.resolve !== undefined
);
const noop = () => {};

/** Thrown internally to give up; never escapes this module. */
const DECLINE = Symbol("decline");

interface Line {
  /** 1-based line number. */
  no: number;
  start: number;
  /** End offset (before the newline). */
  end: number;
  indent: number;
}

/** The located tree of `text`, null for an empty document, or undefined to decline. */
export function parseFastYaml(text: string): LocatedNode | null | undefined {
  if (/[\t\r\uFEFF\\]/.test(text)) return undefined;
  try {
    return new FastParser(text).document();
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  }
}

function decline(): never {
  throw DECLINE;
}

class FastParser {
  readonly lines: Line[] = [];
  i = 0;
  /** The line being read by flow/scalar helpers. */
  line!: Line;

  constructor(readonly text: string) {
    let start = 0;
    for (let no = 1; start <= text.length; no++) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      let first = start;
      while (first < end && text.charCodeAt(first) === 32) first++;
      if (first < end && text[first] !== "#") {
        // Document markers and directives after the first line are left to npm:yaml.
        const marker = first === start && /^(---|\.\.\.)/.test(text.slice(start, start + 3));
        if (marker && this.lines.length > 0) {
          decline();
        }
        this.lines.push({ no, start, end, indent: first - start });
      }
      start = end + 1;
    }
  }

  document(): LocatedNode | null {
    const first = this.lines[0];
    if (!first) return null;
    const head = this.text.slice(first.start, first.end).trimEnd();
    if (head === "---") this.i++;
    if (/^(---|\.\.\.|%)/.test(head) && head !== "---") decline();
    const root = this.lines[this.i];
    if (!root) return null;
    const node = this.block(root.indent);
    if (this.i < this.lines.length) decline();
    return node;
  }

  block(indent: number): LocatedNode {
    const line = this.lines[this.i]!;
    if (this.isSeqLine(line)) return this.seq(indent);
    return this.map(indent, line.start + indent);
  }

  isSeqLine(line: Line): boolean {
    const at = line.start + line.indent;
    if (this.text[at] !== "-") return false;
    const next = this.text[at + 1];
    return next === " " || at + 1 === line.end;
  }

  pos(offset: number) {
    return { line: this.line.no, column: offset - this.line.start + 1 };
  }

  /** A block map whose first key starts at `offset` on the current line. */
  map(indent: number, offset: number): LocatedMap {
    this.line = this.lines[this.i]!;
    const map: LocatedMap = { kind: "map", pos: this.pos(offset), entries: [] };
    const keys = new Set<string>();
    for (;;) {
      const entry = this.entry(indent, offset);
      if (keys.has(entry.key) || entry.key === "<<") decline();
      keys.add(entry.key);
      map.entries.push(entry);
      const next = this.lines[this.i];
      if (!next || next.indent < indent) return map;
      if (next.indent > indent || this.isSeqLine(next)) decline();
      offset = next.start + indent;
    }
  }

  entry(indent: number, offset: number): LocatedEntry {
    const line = this.line = this.lines[this.i]!;
    const { text } = this;
    const keyPos = this.pos(offset);
    let key: string;
    let colon: number;
    const c = text[offset]!;
    if (c === "'" || c === '"') {
      const quoted = this.quoted(offset);
      key = quoted.value;
      colon = this.skipSpaces(quoted.next);
      if (text[colon] !== ":") decline();
    } else {
      if (isIndicator(c)) decline();
      colon = this.keyColon(offset, line.end);
      key = text.slice(offset, colon).trimEnd();
    }
    if (!(colon + 1 === line.end || text[colon + 1] === " ") || key.length > 1000) decline();
    const start = this.skipSpaces(colon + 1);
    let value: LocatedNode;
    if (start >= line.end || text[start] === "#") {
      this.i++;
      const next = this.lines[this.i];
      if (next && next.indent > indent) value = this.block(next.indent);
      else if (next && next.indent === indent && this.isSeqLine(next)) value = this.seq(indent);
      else value = { kind: "scalar", pos: keyPos, value: null, source: "" };
    } else {
      value = this.inline(start);
      this.i++;
      const next = this.lines[this.i];
      if (next && next.indent > indent) decline();
    }
    return { key, keyPos, value };
  }

  /** The `:` ending a plain block key on this line. */
  keyColon(offset: number, end: number): number {
    const { text } = this;
    for (let p = offset; p < end; p++) {
      const ch = text[p];
      if (ch === ":" && (p + 1 === end || text[p + 1] === " ")) return p;
      if (ch === "#" && text[p - 1] === " ") decline();
    }
    return decline();
  }

  seq(indent: number): LocatedSeq {
    const first = this.line = this.lines[this.i]!;
    const seq: LocatedSeq = { kind: "seq", pos: this.pos(first.start + indent), items: [] };
    for (;;) {
      const line = this.line = this.lines[this.i]!;
      const start = this.skipSpaces(line.start + indent + 1);
      if (start >= line.end || this.text[start] === "#") decline();
      if (this.isMapStart(start, line.end)) {
        seq.items.push(this.map(start - line.start, start));
      } else {
        seq.items.push(this.inline(start));
        this.i++;
      }
      const next = this.lines[this.i];
      if (!next || next.indent < indent) return seq;
      if (next.indent > indent) decline();
      if (!this.isSeqLine(next)) return seq;
    }
  }

  /** Whether a list item's content is a compact map (`- key: value`). */
  isMapStart(start: number, end: number): boolean {
    const c = this.text[start]!;
    if (c === "{" || c === "[" || c === "-" || c === "?" || c === ":") return false;
    if (c === "'" || c === '"') {
      const after = this.skipSpaces(this.quoted(start).next);
      return this.text[after] === ":";
    }
    for (let p = start; p < end; p++) {
      const ch = this.text[p];
      if (ch === ":" && (p + 1 === end || this.text[p + 1] === " ")) return true;
      if (ch === "#" && this.text[p - 1] === " ") return false;
    }
    return false;
  }

  /** A value on the rest of the current line: a flow collection, a quoted or a plain scalar. */
  inline(start: number): LocatedNode {
    const { text, line } = this;
    const c = text[start]!;
    let node: LocatedNode;
    let next: number;
    if (c === "{" || c === "[") {
      ({ node, next } = this.flow(start));
    } else if (c === "'" || c === '"') {
      const quoted = this.quoted(start);
      node = this.scalar(start, quoted.next, quoted.value);
      next = quoted.next;
    } else {
      if (isIndicator(c) || ((c === "-" || c === "?" || c === ":") && isBlank(text[start + 1]))) {
        decline();
      }
      let end = start;
      while (end < line.end && !(text[end] === "#" && text[end - 1] === " ")) end++;
      const raw = text.slice(start, end).trimEnd();
      if (raw.includes(": ") || raw.endsWith(":")) decline();
      return this.scalar(start, start + raw.length);
    }
    const rest = this.skipSpaces(next);
    if (rest < line.end && (text[rest] !== "#" || rest === next)) decline();
    return node;
  }

  flow(start: number): { node: LocatedNode; next: number } {
    const { text } = this;
    const open = text[start];
    const close = open === "{" ? "}" : "]";
    const node: LocatedNode = open === "{"
      ? { kind: "map", pos: this.pos(start), entries: [] }
      : { kind: "seq", pos: this.pos(start), items: [] };
    const keys = new Set<string>();
    let p = this.skipSpaces(start + 1);
    if (text[p] === close) return { node, next: p + 1 };
    for (;;) {
      if (node.kind === "map") {
        const keyPos = this.pos(p);
        let key: string;
        if (text[p] === "'" || text[p] === '"') {
          const quoted = this.quoted(p);
          key = quoted.value;
          p = quoted.next;
        } else {
          const plain = this.flowPlain(p, true);
          key = plain.raw;
          p = plain.next;
        }
        if (text[p] !== ":" || text[p + 1] !== " " || keys.has(key) || key === "<<") decline();
        keys.add(key);
        const value = this.flowValue(this.skipSpaces(p + 1));
        node.entries.push({ key, keyPos, value: value.node });
        p = value.next;
      } else {
        const value = this.flowValue(p);
        node.items.push(value.node);
        p = value.next;
      }
      p = this.skipSpaces(p);
      if (text[p] === close) return { node, next: p + 1 };
      if (text[p] !== ",") decline();
      p = this.skipSpaces(p + 1);
      if (text[p] === close) decline();
    }
  }

  flowValue(p: number): { node: LocatedNode; next: number } {
    const c = this.text[p];
    if (c === "{" || c === "[") return this.flow(p);
    if (c === "'" || c === '"') {
      const quoted = this.quoted(p);
      if (this.text[this.skipSpaces(quoted.next)] === ":") decline();
      return { node: this.scalar(p, quoted.next, quoted.value), next: quoted.next };
    }
    const plain = this.flowPlain(p, false);
    return { node: this.scalar(p, p + plain.raw.length), next: plain.next };
  }

  /** A plain scalar inside a flow collection; keys stop at `: `, values at `,`, `]`, `}`. */
  flowPlain(start: number, isKey: boolean): { raw: string; next: number } {
    const { text, line } = this;
    const c = text[start];
    if (c === undefined || isIndicator(c) || c === "," || c === "]" || c === "}") decline();
    if ((c === "-" || c === "?" || c === ":") && isBlank(text[start + 1])) decline();
    let p = start;
    for (; p < line.end; p++) {
      const ch = text[p]!;
      if (ch === "," || ch === "]" || ch === "}" || ch === "[" || ch === "{") break;
      if (ch === "#" && text[p - 1] === " ") decline();
      if (ch === ":" && /[\s,\]}]/.test(text[p + 1] ?? " ")) break;
    }
    if (p >= line.end) decline();
    if ((text[p] === ":") !== isKey) decline();
    const raw = text.slice(start, p).trimEnd();
    if (raw === "") decline();
    return { raw, next: start + raw.length };
  }

  /** A one-line quoted scalar (no escapes: a backslash declines up front). */
  quoted(start: number): { value: string; next: number } {
    const { text, line } = this;
    const quote = text[start]!;
    let value = "";
    let p = start + 1;
    for (;;) {
      const close = text.indexOf(quote, p);
      if (close < 0 || close >= line.end) decline();
      value += text.slice(p, close);
      if (quote === "'" && text[close + 1] === "'") {
        value += "'";
        p = close + 2;
        continue;
      }
      return { value, next: close + 1 };
    }
  }

  scalar(start: number, end: number, quotedValue?: string): LocatedNode {
    const source = this.text.slice(start, end);
    const value = quotedValue ?? resolvePlain(source);
    return { kind: "scalar", pos: this.pos(start), value, source };
  }

  skipSpaces(p: number): number {
    while (this.text.charCodeAt(p) === 32) p++;
    return p;
  }
}

/** Characters that cannot start a plain scalar (or that this parser leaves to npm:yaml). */
function isIndicator(c: string): boolean {
  return "&*!|>%@`#,[]{}'\"".includes(c);
}

function isBlank(c: string | undefined): boolean {
  return c === undefined || c === " " || c === "\n";
}

/** YAML 1.2 core schema resolution of a plain scalar, by npm:yaml's own tags. */
function resolvePlain(source: string): unknown {
  // Only null, booleans and numbers resolve to non-strings: they start with one of these.
  if (!/[-+.0-9~nNtTfF]/.test(source[0] ?? "")) return source;
  for (const tag of CORE_TAGS) {
    if (!tag.test!.test(source)) continue;
    const value = tag.resolve!(source, noop, {});
    return isScalar(value) ? value.value : value;
  }
  return source;
}
