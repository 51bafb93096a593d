/**
 * Argument checks and row decoding of the durable state (map items, steps, waits) shared by
 * the SQLite and Postgres stores: each dialect file holds only its SQL.
 *
 * @module
 */

import type { MapItemPage, MapItemRecord, WaitRecord, WaitResolution } from "../engine/mod.ts";
import {
  checkFence,
  checkWait,
  encodeMapItem,
  encodeResolution,
  requireId,
  stateJson,
} from "./_run_codec.ts";
import type { Lease } from "./run_store.ts";

import { mapItemPage } from "./_run_codec.ts";

export { decodeWait, WAIT_COLUMNS, type WaitRow } from "./_run_codec.ts";

/** The JSON of a map item to store, its arguments checked. */
function mapItem(nodeId: string, item: MapItemRecord, fence?: Lease): string {
  requireId(nodeId, "nodeId", "store map item");
  const json = encodeMapItem(item, "store map item");
  checkFence(fence);
  return json;
}

/** The checked key and name of a step read. */
function stepKey(key: string, name: string, action = "read step"): [string, string] {
  return [requireId(key, "key", action), requireId(name, "name", action)];
}

/** The JSON of a step result to store, its arguments checked. */
function step(key: string, name: string, value: unknown, fence?: Lease): string {
  stepKey(key, name, "store step");
  const json = stateJson(value, "store step");
  checkFence(fence);
  return json;
}

/** Checks the arguments of a wait registration. */
function wait(nodeId: string, wait: Partial<WaitRecord>, fence?: Lease): void {
  requireId(nodeId, "nodeId", "register wait");
  checkWait(wait);
  checkFence(fence);
}

/** The JSON of a wait resolution, its arguments checked. */
function resolution(resolution: WaitResolution, fence?: Lease): string {
  const json = encodeResolution(resolution);
  checkFence(fence);
  return json;
}

/** The argument checks of the durable-state methods, by what they check. */
export const check = { mapItem, stepKey, step, wait, resolution, page: mapItemPage };

/** One page of map items from `limit + 1` rows in index order. */
export function mapItemsOf(
  rows: Record<string, unknown>[],
  limit: number,
): MapItemPage {
  return {
    items: rows.slice(0, limit).map((r) => JSON.parse(r.record as string)),
    nextCursor: rows.length > limit ? String(Number(rows[limit]!.idx)) : undefined,
  };
}
