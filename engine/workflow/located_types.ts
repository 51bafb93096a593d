/**
 * The located YAML tree of `parseWorkflow()`: every key and value keeps its 1-based line and
 * column. Its own module so that the parse helpers and the tree queries depend on the types,
 * not on their caller.
 *
 * @module
 */

/** A 1-based position in a source file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A scalar with its resolved value and its exact source text (quotes included). */
export interface LocatedScalar {
  kind: "scalar";
  pos: SourcePosition;
  /** The YAML 1.2 core-schema value: string, number, boolean or null. */
  value: unknown;
  /** The scalar as written, e.g. `1.10` or `"1.0"`; empty for an absent value. */
  source: string;
}

/** A sequence. */
export interface LocatedSeq {
  kind: "seq";
  pos: SourcePosition;
  items: LocatedNode[];
}

/** One `key: value` pair of a mapping. */
export interface LocatedEntry {
  key: string;
  keyPos: SourcePosition;
  value: LocatedNode;
}

/** A mapping; entries keep their declaration order. */
export interface LocatedMap {
  kind: "map";
  pos: SourcePosition;
  entries: LocatedEntry[];
}

/** Any located YAML value. */
export type LocatedNode = LocatedScalar | LocatedSeq | LocatedMap;
