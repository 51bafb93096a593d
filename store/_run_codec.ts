/**
 * Validation and row encoding shared by the SQLite and Postgres stores: both keep the same
 * columns, so a run round-trips identically through either.
 *
 * @module
 */

import {
  FINISHED_STATUSES as FINISHED,
  type MapItemRecord,
  type NodeRecord,
  type RunRecord,
  RunStatus,
  type WaitRecord,
  type WaitResolution,
} from "../engine/mod.ts";
import { UnserializableValueError } from "./errors.ts";
import type {
  GetLogsOptions,
  Lease,
  ListRunsOptions,
  PruneOptions,
  RunUpdate,
} from "./run_store.ts";

/** Statuses of runs that are over; only these are pruned. */
export const FINISHED_STATUSES = [...FINISHED] as RunStatus[];
/**
 * Statuses of runs to resume after a restart. A `waiting` run is neither finished nor resumed:
 * its wait's resolution makes it `queued` again (see `RunStore.resolveWait`).
 */
export const UNFINISHED_STATUSES: RunStatus[] = [RunStatus.Queued, RunStatus.Running];
/** {@link UNFINISHED_STATUSES} as an SQL list of literals. */
export const UNFINISHED_SQL = UNFINISHED_STATUSES.map((s) => `'${s}'`).join(", ");
const STATUSES = new Set<string>(Object.values(RunStatus));
/** Idempotency window of SPEC §7 `POST /runs`. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/** The columns of one `runs` row. Record fields fixed at creation live in `data` (JSON). */
export interface RunRow {
  run_id: string;
  data: string;
  status: string;
  result: string | null;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

/** Mutable record fields and their columns, in {@link RunUpdate} key order. */
export const UPDATE_COLUMNS = {
  status: "status",
  result: "result",
  error: "error",
  startedAt: "started_at",
  finishedAt: "finished_at",
  durationMs: "duration_ms",
} as const satisfies Record<keyof RunUpdate, keyof RunRow>;

/**
 * JSON text of a value that must be storable.
 * @throws {UnserializableValueError} when JSON.stringify throws (BigInt, cycle, too deep) or
 *   gives nothing (a function or symbol), naming `what` (e.g. `the output of node "a"`)
 */
export function jsonOf(value: unknown, what: string, action: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new UnserializableValueError(
      `Cannot ${action}: ${what} cannot be stored as JSON: ${detail}`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new UnserializableValueError(
      `Cannot ${action}: ${what} cannot be stored as JSON: a ${typeof value} has no JSON form`,
    );
  }
  return text;
}

/** JSON text of a value; undefined (absent) is SQL NULL. */
export function toJson(value: unknown, what = "a value", action = "store run"): string | null {
  return value === undefined ? null : jsonOf(value, what, action);
}

/** JSON text of a node record (output included). */
export function nodeJson(runId: string, nodeId: string, node: unknown): string {
  return jsonOf(node, `the record of node "${nodeId}" of run "${runId}"`, "update node");
}

/** The value of JSON text; SQL NULL is undefined. */
export function fromJson(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

export function requireId(value: unknown, what: string, action: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`Cannot ${action}: ${what} must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

function requireStatus(value: unknown, action: string): RunStatus {
  if (typeof value !== "string" || !STATUSES.has(value)) {
    throw new TypeError(
      `Cannot ${action}: status ${show(value)} is not one of ${[...STATUSES].join(", ")}`,
    );
  }
  return value as RunStatus;
}

function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

/** Splits a record into the `runs` columns (nodes are stored separately). */
export function encodeRun(record: RunRecord): RunRow & { workflow: string } {
  const action = "create run";
  if (typeof record !== "object" || record === null) {
    throw new TypeError(`Cannot ${action}: the record must be an object, got ${show(record)}`);
  }
  requireId(record.runId, "runId", action);
  requireId(record.workflow, "workflow", action);
  requireStatus(record.status, action);
  if (typeof record.nodes !== "object" || record.nodes === null || Array.isArray(record.nodes)) {
    throw new TypeError(`Cannot ${action}: nodes must be an object of node records`);
  }
  const {
    nodes: _nodes,
    status,
    result,
    error,
    startedAt,
    finishedAt,
    durationMs,
    ...fixed
  } = record;
  return {
    run_id: record.runId,
    workflow: record.workflow,
    data: jsonOf(fixed, `the input of run "${record.runId}"`, action),
    status,
    result: toJson(result, `the result of run "${record.runId}"`, action),
    error: toJson(error, `the error of run "${record.runId}"`, action),
    started_at: startedAt ?? null,
    finished_at: finishedAt ?? null,
    duration_ms: durationMs ?? null,
  };
}

/** Rebuilds the record (SPEC §6 field order) from its row and its node rows. */
export function decodeRun(row: RunRow, nodes?: Iterable<[string, string]>): RunRecord {
  const { runId, workflow, version, input, ...rest } = JSON.parse(row.data) as RunRecord;
  const record: Record<string, unknown> = { runId, workflow, version, status: row.status, input };
  if (row.result !== null) record.result = JSON.parse(row.result);
  if (row.error !== null) record.error = JSON.parse(row.error);
  if (row.started_at !== null) record.startedAt = row.started_at;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  if (row.duration_ms !== null) record.durationMs = Number(row.duration_ms);
  if (nodes) {
    const map: Record<string, NodeRecord> = {};
    for (const [id, json] of nodes) map[id] = JSON.parse(json);
    record.nodes = map;
  }
  return Object.assign(record, rest) as unknown as RunRecord;
}

/** Run summaries (no nodes) of `runs` rows. */
export function decodeRuns(rows: unknown[]): RunRecord[] {
  return rows.map((row) => decodeRun(row as RunRow));
}

/** The present keys of an update as [column, value] pairs. */
export function encodeUpdate(update: RunUpdate): [string, string | number | null][] {
  const set: [string, string | number | null][] = [];
  for (const [key, column] of Object.entries(UPDATE_COLUMNS)) {
    if (!Object.hasOwn(update, key)) continue;
    const value = update[key as keyof RunUpdate];
    if (key === "status") set.push([column, requireStatus(value, "update run")]);
    else if (key === "result" || key === "error") {
      set.push([column, toJson(value, `the run's ${key}`, "update run")]);
    } else if (value === undefined || value === null) set.push([column, null]);
    else set.push([column, value as string | number]);
  }
  return set;
}

/** Validated page size and the sequence number to continue below (Infinity: first page). */
export function pageOf(options: ListRunsOptions): { limit: number; before: number } {
  const limit = options.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RangeError(
      `Cannot list runs: limit must be an integer 1..${MAX_LIMIT}, got ${limit}`,
    );
  }
  if (options.cursor === undefined) return { limit, before: Number.MAX_SAFE_INTEGER };
  const before = /^[1-9][0-9]{0,15}$/.test(options.cursor) ? Number(options.cursor) : NaN;
  if (!Number.isSafeInteger(before)) {
    throw new TypeError(
      `Cannot list runs: cursor "${options.cursor}" is malformed; pass a nextCursor of a page`,
    );
  }
  return { limit, before };
}

/** Statuses of a `listRuns` filter, validated; undefined means every status. */
/**
 * The id-prefix and creation-time filters of `options`, checked.
 * @throws {TypeError} for an empty or over-long prefix
 * @throws {RangeError} for a time that is not a finite integer
 */
export function listFilters(
  options: ListRunsOptions,
): Pick<ListRunsOptions, "runIdPrefix" | "createdFrom" | "createdBefore"> {
  const { runIdPrefix, createdFrom, createdBefore } = options;
  if (runIdPrefix !== undefined && (runIdPrefix.length === 0 || runIdPrefix.length > 200)) {
    throw new TypeError("Cannot list runs: runIdPrefix must be 1 to 200 characters");
  }
  for (const [name, value] of [["createdFrom", createdFrom], ["createdBefore", createdBefore]]) {
    if (value !== undefined && !Number.isSafeInteger(value)) {
      throw new RangeError(`Cannot list runs: ${name} must be an integer (epoch ms), got ${value}`);
    }
  }
  return { runIdPrefix, createdFrom, createdBefore };
}

export function statusFilter(status: ListRunsOptions["status"]): RunStatus[] | undefined {
  if (status === undefined) return undefined;
  const list = Array.isArray(status) ? status : [status];
  return list.map((s) => requireStatus(s, "list runs"));
}

export function checkLogsOptions(options: GetLogsOptions): void {
  const { afterSeq = 0, limit } = options;
  if (!Number.isInteger(afterSeq) || afterSeq < 0) {
    throw new RangeError(`Cannot get logs: afterSeq must be an integer >= 0, got ${afterSeq}`);
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new RangeError(`Cannot get logs: limit must be an integer >= 1, got ${limit}`);
  }
}

export function checkPositiveMs(value: number, what: string, action: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Cannot ${action}: ${what} must be a positive number, got ${value}`);
  }
}

/** Validates the owner and lease length of a claim ("claim run") or renewal ("renew lease"). */
export function checkLeaseArgs(owner: string, leaseMs: number, action: string): void {
  requireId(owner, "owner", action);
  checkPositiveMs(leaseMs, "leaseMs", action);
}

/** Validates a fence argument. */
export function checkFence(fence: Lease | undefined): void {
  if (fence === undefined) return;
  requireId(fence.owner, "fence.owner", "write run");
  if (!Number.isSafeInteger(fence.epoch) || fence.epoch < 0) {
    throw new TypeError(
      `Cannot write run: fence.epoch must be an integer >= 0, got ${fence.epoch}`,
    );
  }
}

export function checkPrune(options: PruneOptions): void {
  const { maxRuns, maxAgeMs } = options;
  if (maxRuns !== undefined && (!Number.isInteger(maxRuns) || maxRuns < 0)) {
    throw new RangeError(`Cannot prune runs: maxRuns must be an integer >= 0, got ${maxRuns}`);
  }
  if (maxAgeMs !== undefined) checkPositiveMs(maxAgeMs, "maxAgeMs", "prune runs");
}

/** JSON text of a state value (undefined cannot be stored: it means "absent"). */
export function stateJson(value: unknown, action: string): string {
  if (value === undefined) {
    throw new TypeError(`Cannot ${action}: the value is undefined; store null instead`);
  }
  return jsonOf(value, "the value", action);
}

/** The `runs` columns every run query selects (both stores share the schema). */
export const RUN_COLUMNS =
  "seq, run_id, data, status, result, error, started_at, finished_at, duration_ms";

/** Validated map-item page options: the first index and the page size. */
export function mapItemPage(
  options: { cursor?: string; limit?: number },
): { from: number; limit: number } {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RangeError(
      `Cannot list map items: limit must be an integer 1..${MAX_LIMIT}, got ${limit}`,
    );
  }
  if (options.cursor === undefined) return { from: 0, limit };
  const from = /^(0|[1-9][0-9]{0,15})$/.test(options.cursor) ? Number(options.cursor) : NaN;
  if (!Number.isSafeInteger(from)) {
    throw new TypeError(
      `Cannot list map items: cursor "${options.cursor}" is malformed; pass a nextCursor of a page`,
    );
  }
  return { from, limit };
}

/** JSON of a map item (its index lives in its own column). */
export function encodeMapItem(item: MapItemRecord, action: string): string {
  if (
    typeof item !== "object" || item === null || !Number.isSafeInteger(item.index) || item.index < 0
  ) {
    throw new TypeError(`Cannot ${action}: item.index must be an integer >= 0`);
  }
  return JSON.stringify(item);
}

/** The stored form of a wait resolution, or a TypeError. */
export function encodeResolution(resolution: WaitResolution): string {
  if (resolution?.kind !== "event" && resolution?.kind !== "due") {
    throw new TypeError('Cannot resolve wait: resolution.kind must be "event" or "due"');
  }
  return JSON.stringify(resolution);
}

/** The `run_waits` columns every wait query selects. */
export const WAIT_COLUMNS = "run_id, node_id, event, due_at, resolution";

/** One `run_waits` row. */
export interface WaitRow {
  run_id: string;
  node_id: string;
  event: string | null;
  due_at: number | string | null;
  resolution: string | null;
}

/** A `run_waits` row as a {@link WaitRecord}. */
export function decodeWait(row: WaitRow): WaitRecord {
  const wait: WaitRecord = { runId: row.run_id, nodeId: row.node_id };
  if (row.event !== null) wait.event = row.event;
  if (row.due_at !== null) wait.dueAt = Number(row.due_at);
  if (row.resolution !== null) wait.resolution = JSON.parse(row.resolution);
  return wait;
}

/** Validates the wait of `putWait`. */
export function checkWait(wait: { event?: string; dueAt?: number }): void {
  if (wait.event !== undefined) requireId(wait.event, "event", "register wait");
  if (wait.dueAt !== undefined && !Number.isFinite(wait.dueAt)) {
    throw new RangeError(`Cannot register wait: dueAt must be a finite number, got ${wait.dueAt}`);
  }
  if (wait.event === undefined && wait.dueAt === undefined) {
    throw new TypeError("Cannot register wait: it needs an event, a dueAt or both");
  }
}
