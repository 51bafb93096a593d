/**
 * Where `SqliteStore` keeps a run's fixed fields (`runs.data`: input, version, trigger…): in its
 * `runs` row, or, when they would not fit in the row's page, in `run_inputs` (schema version
 * 4) with `runs.data` = '' (never the JSON of a record). SQLite rewrites a whole row, its
 * overflow pages included, whenever an update changes the row's size (a status, a result, the
 * log count): with a 64 KiB input every transition wrote ~20 pages instead of 1–3.
 *
 * @module
 */

import { RUN_COLUMNS } from "./_run_codec.ts";

/** UTF-8 bytes of `data` above which it is stored apart (a 4 KiB page holds ≤ 4061 of a row). */
export const INLINE_DATA_BYTES = 3_500;

/** Whether the JSON `data` of a run goes to `run_inputs`. */
export function storedApart(data: string): boolean {
  if (data.length > INLINE_DATA_BYTES) return true;
  // A UTF-16 unit is at most 3 UTF-8 bytes.
  if (data.length * 3 <= INLINE_DATA_BYTES) return false;
  return new TextEncoder().encode(data).length > INLINE_DATA_BYTES;
}

/** {@link RUN_COLUMNS} of a `runs` row, `data` read from `run_inputs` when stored apart. */
export const SQLITE_RUN_COLUMNS = RUN_COLUMNS.split(", ").map((column) =>
  column === "data"
    ? "CASE WHEN runs.data = '' THEN (SELECT run_inputs.data FROM run_inputs " +
      "WHERE run_inputs.seq = runs.seq) ELSE runs.data END AS data"
    : column
).join(", ");
