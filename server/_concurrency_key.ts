/**
 * The `concurrency.key` value of a run (SPEC §10): the JSON Pointer of the workflow's
 * `concurrency.key` evaluated in the run input (a queue trigger's input is the message payload).
 *
 * @module
 */

import type { ConcurrencySettings } from "../engine/mod.ts";

/**
 * The partition of a run: "" without `concurrency.key` or when the pointer finds nothing; the
 * string itself for a string value; its JSON for any other value.
 */
export function concurrencyKey(settings: ConcurrencySettings | undefined, input: unknown): string {
  const pointer = settings?.key;
  if (pointer === undefined) return "";
  let value: unknown = input;
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(value) && /^(0|[1-9][0-9]*)$/.test(part)) value = value[Number(part)];
    else if (typeof value === "object" && value !== null && Object.hasOwn(value, part)) {
      value = (value as Record<string, unknown>)[part];
    } else return "";
  }
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
