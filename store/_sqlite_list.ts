/**
 * The query of `SqliteStore.listRuns`: newest first below a `seq` cursor, each filter served by
 * an index (schema version 4: `runs_status_seq`, `runs_workflow_status_seq`, `runs_created_at`).
 *
 * @module
 */

import type { SQLInputValue } from "node:sqlite";
import { RunStatus } from "../engine/mod.ts";
import { listFilters } from "./_run_codec.ts";
import { SQLITE_RUN_COLUMNS } from "./_sqlite_inputs.ts";
import type { ListRunsOptions } from "./run_store.ts";

const ALL_STATUSES: readonly string[] = Object.values(RunStatus);

/** SQL text and parameters of one query. */
export interface Query {
  sql: string;
  params: SQLInputValue[];
}

/**
 * The `SELECT` of a page of `limit + 1` runs below `before`. With a workflow and no single
 * status, one range per status (`(workflow, status, seq)`, newest first, each stopped at the
 * page size) merged by `seq`, so a page reads at most one page per status however many runs the
 * workflow has; several statuses without a workflow likewise through `(status, seq)`.
 */
export function listRunsQuery(
  options: ListRunsOptions,
  before: number,
  limit: number,
  statuses: readonly string[] | undefined,
): Query {
  const where = ["seq < ?"];
  const params: SQLInputValue[] = [before];
  const { runIdPrefix, createdFrom, createdBefore } = listFilters(options);
  if (runIdPrefix !== undefined) {
    where.push("instr(run_id, ?) = 1");
    params.push(runIdPrefix);
  }
  if (createdFrom !== undefined) {
    where.push("created_at >= ?");
    params.push(createdFrom);
  }
  if (createdBefore !== undefined) {
    where.push("created_at < ?");
    params.push(createdBefore);
  }
  const workflow = options.workflow;
  const prefix = workflow === undefined ? [] : ["workflow = ?"];
  const head = workflow === undefined ? [] : [workflow];
  const each = statuses === undefined
    ? (workflow === undefined ? undefined : ALL_STATUSES)
    : [...new Set(statuses)];
  if (each === undefined || each.length <= 1) {
    const status = each?.length === 1 ? ["status = ?"] : each ? ["0"] : [];
    return {
      sql: `SELECT ${SQLITE_RUN_COLUMNS} FROM runs WHERE ${
        [...prefix, ...status, ...where].join(" AND ")
      } ORDER BY seq DESC LIMIT ?`,
      params: [...head, ...(each ?? []), ...params, limit + 1],
    };
  }
  const branch = `SELECT * FROM (SELECT ${SQLITE_RUN_COLUMNS} FROM runs WHERE ${
    [...prefix, "status = ?", ...where].join(" AND ")
  } ORDER BY seq DESC LIMIT ?)`;
  return {
    sql: `${each.map(() => branch).join(" UNION ALL ")} ORDER BY seq DESC LIMIT ?`,
    params: [...each.flatMap((status) => [...head, status, ...params, limit + 1]), limit + 1],
  };
}
