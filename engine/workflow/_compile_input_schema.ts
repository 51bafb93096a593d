/**
 * `inputSchema:` is checked at validate time: against the JSON Schema (draft-07) meta-schema,
 * with each problem located in workflow.yaml, then compiled with ajv in strict mode, so a
 * misspelt keyword such as `proprties` is caught before any run.
 *
 * @module
 */

import { Ajv, type ErrorObject } from "ajv";
import type { LocatedEntry } from "./located_types.ts";
import type { Checker } from "./_checker.ts";
import { locatePath, toPlain } from "./_located.ts";
import { closest } from "./_suggest.ts";

const HINT = "inputSchema is a JSON Schema (draft-07), e.g. { type: object, required: [user] }";

/** The schema as plain data, or undefined (with issues) when it is not a valid JSON Schema. */
export function compileInputSchema(checker: Checker, entry: LocatedEntry): unknown {
  const map = checker.map(entry.value, "inputSchema", HINT);
  if (!map) return undefined;
  const schema = toPlain(map);
  const ajv = new Ajv({
    allErrors: true,
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    validateFormats: false,
    logger: false,
  });
  if (!ajv.validateSchema(schema as Record<string, unknown>)) {
    const seen = new Set<string>();
    for (const error of ajv.errors ?? []) {
      if (seen.has(error.instancePath)) continue;
      seen.add(error.instancePath);
      const path = error.instancePath.split("/").slice(1).map(unescapePointer);
      checker.report(
        locatePath(map, path),
        `Invalid inputSchema at ${error.instancePath || "/"}: ${error.message}${allowed(error)}`,
        hintFor(error, schema, path) ?? HINT,
      );
    }
    return undefined;
  }
  try {
    ajv.compile(schema as Record<string, unknown>);
  } catch (error) {
    const message = (error as Error).message;
    const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
    const match = keyword && closest(keyword, KEYWORDS);
    checker.report(
      keyword ? findKey(map, keyword) : map.pos,
      `Invalid inputSchema: ${message}`,
      match ? `Did you mean "${match}"?` : HINT,
    );
    return undefined;
  }
  return schema;
}

function unescapePointer(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

function allowed(error: ErrorObject): string {
  const values = (error.params as { allowedValues?: unknown[] }).allowedValues;
  return values ? ` (${values.join(", ")})` : "";
}

function hintFor(error: ErrorObject, schema: unknown, path: string[]): string | undefined {
  const values = (error.params as { allowedValues?: unknown[] }).allowedValues;
  if (!values) return undefined;
  let value: unknown = schema;
  for (const segment of path) value = (value as Record<string, unknown>)?.[segment];
  const match = typeof value === "string" && closest(value, values.map(String));
  return match ? `Did you mean "${match}"?` : `Use one of: ${values.join(", ")}`;
}

/** The first position of `key` anywhere in the schema tree (depth first). */
function findKey(node: LocatedEntry["value"], key: string): LocatedEntry["keyPos"] {
  const stack = [node];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.kind === "map") {
      const found = current.entries.find((entry) => entry.key === key);
      if (found) return found.keyPos;
      for (const entry of [...current.entries].reverse()) stack.push(entry.value);
    } else if (current.kind === "seq") {
      for (const item of [...current.items].reverse()) stack.push(item);
    }
  }
  return node.pos;
}

const KEYWORDS = [
  "type",
  "properties",
  "required",
  "items",
  "additionalProperties",
  "patternProperties",
  "enum",
  "const",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minItems",
  "maxItems",
  "uniqueItems",
  "default",
  "description",
  "title",
  "examples",
  "oneOf",
  "anyOf",
  "allOf",
  "not",
  "if",
  "then",
  "else",
  "definitions",
  "$ref",
  "$id",
  "$schema",
  "minProperties",
  "maxProperties",
  "dependencies",
  "propertyNames",
  "contains",
  "multipleOf",
];
