/**
 * `concurrency.key` (SPEC §10, a JSON Pointer into the run input) and `concurrency.maxRunsTotal`:
 * their validation, called by `compileConcurrency()`.
 *
 * @module
 */

import type { ConcurrencySettings } from "../workflow_model.ts";
import type { LocatedEntry } from "./located_types.ts";
import type { Checker } from "./_checker.ts";
import { parseJsonPointer } from "./concurrency_key.ts";
import { closest } from "./_suggest.ts";

/** SPEC §10 `concurrency.key` (a JSON Pointer into the run input) and `maxRunsTotal`. */
export function compileConcurrencyKey(
  checker: Checker,
  key: LocatedEntry | undefined,
  total: LocatedEntry | undefined,
  concurrency: ConcurrencySettings,
): void {
  const pointerHint =
    'Write key: /tenant (a JSON Pointer into the run input: "/" before each field, "~1" for "/" and "~0" for "~" inside a name)';
  if (key) {
    const node = key.value;
    const pointer = node.kind === "scalar" && typeof node.value !== "string"
      ? checker.report(node.pos, `Expected a string for "key", got ${node.value}`, pointerHint)
      : checker.string(key, { example: "/tenant" });
    if (pointer === "") {
      checker.report(
        key.value.pos,
        'Empty concurrency key "": it would be the whole input',
        pointerHint,
      );
    } else if (pointer !== undefined) {
      try {
        parseJsonPointer(pointer);
        concurrency.key = pointer;
      } catch {
        const relative = !pointer.startsWith("/");
        checker.report(
          key.value.pos,
          `Invalid concurrency key "${pointer}": ${
            relative ? 'a JSON Pointer starts with "/"' : '"~" must be followed by 0 or 1'
          }`,
          relative
            ? `Write key: /${pointer.replace(/^[.$]+/, "").replaceAll(".", "/")}`
            : pointerHint,
        );
      }
    }
  }
  if (!total) return;
  const maxRunsTotal = checker.int(total, { min: 1, max: 100_000, example: 20 });
  if (maxRunsTotal === undefined) return;
  if (!key) {
    checker.report(
      total.keyPos,
      '"maxRunsTotal" needs "key": it caps the runs of all key values together',
      "Add key: /tenant (a JSON Pointer into the run input), or use maxRuns to limit the workflow's runs",
    );
  } else if (maxRunsTotal < concurrency.maxRuns) {
    checker.report(
      total.value.pos,
      `"maxRunsTotal" (${maxRunsTotal}) is below "maxRuns" (${concurrency.maxRuns}), which is per key value`,
      `Make maxRunsTotal at least ${concurrency.maxRuns}, or lower maxRuns`,
    );
  } else {
    concurrency.maxRunsTotal = maxRunsTotal;
  }
}

/**
 * A key the input schema rules out (a field outside `properties` where `additionalProperties` is
 * false) would put every run under the empty key: almost surely a typo. Schemas the walk cannot
 * follow (`$ref`, `allOf`, …) are not judged.
 */
export function checkKeyInSchema(
  checker: Checker,
  entry: LocatedEntry,
  key: string,
  schema: unknown,
) {
  let node = schema;
  const tokens = parseJsonPointer(key);
  for (const [i, token] of tokens.entries()) {
    if (typeof node !== "object" || node === null) return;
    const { properties, additionalProperties } = node as Record<string, unknown>;
    if (typeof properties !== "object" || properties === null) return;
    if (Object.hasOwn(properties, token)) {
      node = (properties as Record<string, unknown>)[token];
      continue;
    }
    if (additionalProperties !== false) return;
    const names = Object.keys(properties);
    const match = closest(token, names);
    const prefix = tokens.slice(0, i).map((t) =>
      `/${t.replaceAll("~", "~0").replaceAll("/", "~1")}`
    ).join("");
    checker.report(
      entry.value.pos,
      `Concurrency key "${key}" can never have a value: inputSchema allows only ${
        names.map((n) => `"${n}"`).join(", ") || "no fields"
      } at "${prefix || "/"}"`,
      match
        ? `Did you mean key: ${prefix}/${match.replaceAll("~", "~0").replaceAll("/", "~1")}?`
        : "Point the key at a field the input has",
    );
    return;
  }
}
