/**
 * Keys of the node output cache (SPEC §2 `cache:`).
 *
 * @module
 */

import type { CompiledNode } from "../workflow_model.ts";

/**
 * `JSON.stringify` with object keys sorted at every level, so equal values always give the
 * same text. Follows JSON.stringify for `toJSON`, `undefined`, functions and non-finite numbers;
 * returns `undefined` for a top-level value JSON cannot represent.
 *
 * @throws {TypeError} on circular references and BigInt values
 * @example
 * ```ts
 * import { stableJson } from "./_cache_key.ts";
 * stableJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function stableJson(value: unknown): string | undefined {
  return write(value, "", new Set());
}

function write(value: unknown, key: string, seen: Set<object>): string | undefined {
  if (value !== null && typeof value === "object" && "toJSON" in value) {
    const toJSON = (value as { toJSON: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, key);
  }
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "bigint":
      throw new TypeError(`Cannot serialise value: BigInt at "${key}" has no JSON form`);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";
  const object = value as object;
  if (seen.has(object)) {
    throw new TypeError(`Cannot serialise value: circular reference at "${key}"`);
  }
  seen.add(object);
  let out: string;
  if (Array.isArray(object)) {
    out = `[${object.map((item, i) => write(item, String(i), seen) ?? "null").join(",")}]`;
  } else {
    const record = object as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(record).sort()) {
      const text = write(record[k], k, seen);
      if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
    }
    out = `{${parts.join(",")}}`;
  }
  seen.delete(object);
  return out;
}

/**
 * The cache key of one node call: sha256 (hex) of the node's code hash, the stable JSON of its
 * input and the stable JSON of the effective config.
 *
 * @throws {TypeError} when the input or config cannot be serialised (see {@link stableJson})
 * @example
 * ```ts
 * import { cacheKey } from "./_cache_key.ts";
 * const key = await cacheKey({ codeHash: "abc" }, { user: "ada" }, { timeout: "30s" });
 * ```
 */
export async function cacheKey(
  node: Pick<CompiledNode, "codeHash">,
  input: unknown,
  config: Record<string, unknown>,
): Promise<string> {
  const material = `${node.codeHash}\n${stableJson(input) ?? "undefined"}\n${stableJson(config)}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(material));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
