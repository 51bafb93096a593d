/**
 * Queries over the located tree of `parseWorkflow()`: find an entry, locate a path, describe a
 * value for a message, turn a subtree into plain data.
 *
 * @module
 */

import type { LocatedMap, LocatedNode, SourcePosition } from "./located_types.ts";

/** The entry of `key` in `map`, if any (linear: maps queried by key are small). */
export function entryOf(map: LocatedMap, key: string) {
  return map.entries.find((entry) => entry.key === key);
}

/**
 * The position of the value at `path` (keys and indexes) below `node`, or of the deepest
 * ancestor that exists. With `{ key: true }` and a path ending in a map key, the key's position.
 */
export function locatePath(
  node: LocatedNode,
  path: readonly (string | number)[],
  options: { key?: boolean } = {},
): SourcePosition {
  let current = node;
  for (const [i, segment] of path.entries()) {
    if (current.kind === "map") {
      const entry = entryOf(current, String(segment));
      if (!entry) return current.pos;
      if (options.key && i === path.length - 1) return entry.keyPos;
      current = entry.value;
    } else if (current.kind === "seq") {
      const item = current.items[Number(segment)];
      if (!item) return current.pos;
      current = item;
    } else {
      return current.pos;
    }
  }
  return current.pos;
}

/** A short description of a value for messages: `"two"`, `3`, `a map`, `a list`. */
export function describe(node: LocatedNode): string {
  if (node.kind === "map") return "a map";
  if (node.kind === "seq") return "a list";
  if (node.value === null) return node.source === "" ? "nothing" : "null";
  if (typeof node.value === "string") return JSON.stringify(node.value);
  return node.source || String(node.value);
}

/** The subtree as plain data (maps become objects, aliases stay shared). */
export function toPlain(node: LocatedNode, memo = new Map<LocatedNode, unknown>()): unknown {
  if (node.kind === "scalar") return node.value;
  const known = memo.get(node);
  if (known !== undefined) return known;
  if (node.kind === "seq") {
    const items: unknown[] = [];
    memo.set(node, items);
    for (const item of node.items) items.push(toPlain(item, memo));
    return items;
  }
  const object: Record<string, unknown> = {};
  memo.set(node, object);
  for (const entry of node.entries) {
    // defineProperty: a "__proto__" key stays data, never a prototype.
    Object.defineProperty(object, entry.key, {
      value: toPlain(entry.value, memo),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/**
 * The column of character `offset` inside a one-line scalar, when the source maps 1:1 to the
 * value (plain, or quoted without escapes); otherwise the scalar's own position.
 */
export function positionWithin(node: LocatedNode, offset: number): SourcePosition {
  if (node.kind !== "scalar" || typeof node.value !== "string") return node.pos;
  const { source, value } = node;
  if (source === value) return { line: node.pos.line, column: node.pos.column + offset };
  const quoted = source.length === value.length + 2 && source.slice(1, -1) === value;
  if (quoted) return { line: node.pos.line, column: node.pos.column + 1 + offset };
  return node.pos;
}
