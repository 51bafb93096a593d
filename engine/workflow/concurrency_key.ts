/**
 * `concurrency.key` (SPEC §10): JSON Pointers (RFC 6901) into the run input, and the key value
 * a run input falls under.
 *
 * @module
 */

import type { ConcurrencySettings } from "../workflow_model.ts";

/** The key value of every run whose input has no usable value at the pointer. */
export const EMPTY_CONCURRENCY_KEY = "";

/**
 * The reference tokens of a JSON Pointer, unescaped (`~1` → `/`, `~0` → `~`).
 *
 * @throws {SyntaxError} when `pointer` is not a JSON Pointer: it must be "" or start with "/",
 *   and "~" must be followed by "0" or "1"
 * @example
 * ```ts
 * import { parseJsonPointer } from "./concurrency_key.ts";
 * parseJsonPointer("/tenant/id"); // ["tenant", "id"]
 * parseJsonPointer("/a~1b");      // ["a/b"]
 * ```
 */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) {
    throw new SyntaxError(`Cannot parse JSON Pointer "${pointer}": it must start with "/"`);
  }
  const bad = /~(?![01])/.exec(pointer);
  if (bad) {
    throw new SyntaxError(
      `Cannot parse JSON Pointer "${pointer}": "~" at offset ${bad.index} must be followed by 0 or 1 ("~0" is "~", "~1" is "/")`,
    );
  }
  return pointer.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * The value at a JSON Pointer, or undefined when the path does not exist. Only own properties
 * count (`/constructor` of `{}` does not exist); an array index is a decimal without leading
 * zeros.
 *
 * @throws {SyntaxError} for a malformed pointer
 */
export function resolveJsonPointer(document: unknown, pointer: string): unknown {
  let value = document;
  for (const token of parseJsonPointer(pointer)) {
    if (Array.isArray(value)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      value = value[Number(token)];
    } else if (typeof value === "object" && value !== null && Object.hasOwn(value, token)) {
      value = (value as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return value;
}

/**
 * The key value a run falls under: with `concurrency.key`, a string at the pointer as is, a
 * number or boolean as its JSON text (`1` and `"1"` share a key); anything else (missing, null,
 * an object or an array) is {@link EMPTY_CONCURRENCY_KEY}, one documented bucket. Without a
 * key every run is under the empty key.
 *
 * @example
 * ```ts
 * import { concurrencyKeyOf } from "./concurrency_key.ts";
 * const settings = { maxRuns: 1, queueLimit: 10, strategy: "append" as const, startDelayMs: 0, key: "/tenant" };
 * concurrencyKeyOf(settings, { tenant: "acme" }); // "acme"
 * concurrencyKeyOf(settings, {});                 // ""
 * ```
 */
export function concurrencyKeyOf(
  settings: ConcurrencySettings | undefined,
  input: unknown,
): string {
  if (settings?.key === undefined) return EMPTY_CONCURRENCY_KEY;
  let value: unknown;
  try {
    value = resolveJsonPointer(input, settings.key);
  } catch {
    return EMPTY_CONCURRENCY_KEY; // compiled workflows have valid pointers; hand-built ones may not
  }
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  return EMPTY_CONCURRENCY_KEY;
}
