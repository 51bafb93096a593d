// node:sqlite is synchronous; the methods stay `async` so that RunStore callers get rejections,
// not synchronous throws, for misuse and I/O errors.
// deno-lint-ignore-file require-await

/**
 * The embedded run store: one SQLite file through `node:sqlite` (no server to install), in WAL
 * mode with `synchronous=NORMAL`: a commit appends to the WAL without an fsync, so a committed
 * write survives a process crash (kill -9).
 *
 * Durability `full` (the default) also survives a power loss or kernel crash: after each group
 * commit the WAL file is fsynced (fdatasync) off the main thread, and the commit's writes
 * settle only once that fsync covering them completed. That is what `synchronous=FULL` does,
 * without blocking the event loop for the fsync: the commits of the turns that run meanwhile
 * share the next fsync. `relaxed` settles writes at the commit.
 *
 * Group commit: writes made in one event-loop turn are applied in call order in one
 * transaction at the end of the turn (`setImmediate`), and each promise settles once that
 * transaction committed (and, with `full`, was fsynced), in call order. With `full`, writes
 * made while an fsync runs commit together when it ends; writes made in `lazily()` (a run's
 * intermediate transitions) start no fsync of their own (`WriteMode`). A commit's locks and
 * WAL writes cost more than the statements, and a busy `serve` (many runs' transitions per
 * turn) would otherwise pay them per transition. No lock is held between turns. A read first
 * commits the writes queued before it and waits until they are durable, so it sees every write
 * called before it and nothing that a power loss could take back (other processes see writes
 * at the commit).
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { LogLine, NodeCache, NodeRecord, RunRecord } from "../engine/mod.ts";
import {
  checkFence,
  checkLogsOptions,
  checkPositiveMs,
  checkPrune,
  decodeRun,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_LEASE_MS,
  encodeRun,
  encodeUpdate,
  FINISHED_STATUSES,
  jsonOf,
  nodeJson,
  pageOf,
  requireId,
  type RunRow,
  stateJson,
  statusFilter,
  UNFINISHED_STATUSES,
} from "./_run_codec.ts";
import { WalSync } from "./_wal_sync.ts";
import * as group from "./_sqlite_group_commit.ts";
import { sqliteCache } from "./_sqlite_cache.ts";
import { migrateSqlite, NEXT_RUN_SEQ_SQL } from "./_sqlite_migrations.ts";
import { listRunsQuery } from "./_sqlite_list.ts";
import { SQLITE_RUN_COLUMNS, storedApart } from "./_sqlite_inputs.ts";
import { SqliteDurable } from "./_sqlite_durable.ts";
import { DurableMethods } from "./_durable_methods.ts";
import { SqliteLeases } from "./_sqlite_leases.ts";
import type {
  CreateRunOptions,
  CreateRunResult,
  Durability,
  GetLogsOptions,
  Lease,
  ListRunsOptions,
  ListUnfinishedOptions,
  PruneOptions,
  RunPage,
  RunStore,
  RunUpdate,
  StoredLogLine,
  StoreOptions,
} from "./run_store.ts";
import { durabilityOf } from "./run_store.ts";

const UNFINISHED = UNFINISHED_STATUSES.map((s) => `'${s}'`).join(", ");
const FINISHED = FINISHED_STATUSES.map((s) => `'${s}'`).join(", ");

type Row = Record<string, SQLInputValue>;

/**
 * WAL pages (4 KiB) after which a commit checkpoints the WAL into the database file (SQLite's
 * default: 1000), inside `COMMIT` on the main thread, with fsyncs of the WAL and the database
 * file there. A busy `serve` wrote ~20 pages per run (12–16 since schema version 4): the default
 * checkpointed every ~50 runs.
 * At 10,000 (a WAL of up to ~40 MB) that happens ten times less often, and a checkpoint copies
 * each page once however often it was rewritten: SQLite's main-thread time per write fell from
 * ~53 to ~32 µs at 8 and 32 in flight (BENCHMARKS.md, issue 13).
 */
const WAL_CHECKPOINT_PAGES = 10_000;

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions extends StoreOptions {
  /**
   * Makes a file's written data durable (durability `full`: the WAL file after each group
   * commit, and its directory once). @default fdatasync through `Deno.FsFile.syncData()` on
   * Deno's I/O threads, the WAL file kept open
   */
  syncFile?: (path: string) => Promise<void>;
}

/**
 * A {@link RunStore} in one SQLite file. Several processes may open the same file: writes are
 * serialised by SQLite's lock (`BEGIN IMMEDIATE`, 5 s busy timeout).
 *
 * @example
 * ```ts
 * import { SqliteStore } from "./sqlite_store.ts";
 * const store = await SqliteStore.open(".pipedreamer/runs.db");
 * console.log((await store.listRuns()).runs.length);
 * await store.close();
 * ```
 */
export class SqliteStore extends DurableMethods implements RunStore {
  /** Writes are applied and settled in call order (one connection, group commit). */
  readonly ordersWrites = true;
  readonly cache: NodeCache;
  #db: DatabaseSync;
  #now: () => number;
  #idempotencyTtlMs: number;
  #statements = new Map<string, StatementSync>();
  #closed = false;
  readonly #group: group.GroupCommit;
  readonly #access = {
    sql: (text: string) => this.#sql(text),
    write: <T>(body: () => T, atomic?: boolean) => this.#write(body, atomic),
    flush: () => this.#flush(),
    now: () => this.#now(),
  };
  protected readonly leases = new SqliteLeases(this.#access);
  protected readonly durable = new SqliteDurable(this.#access, this.leases);
  /** What a resolved write survives. */
  readonly durability: Durability;
  /** Fsyncs the WAL after each commit (durability `full` on a file), else undefined. */
  #wal: WalSync | undefined;

  /**
   * Opens (creating when missing) the database file and migrates its schema. `path` may be
   * ":memory:" for a throwaway store.
   * @throws {RangeError} when idempotencyTtlMs is not a positive number
   * @throws {Error} when the file cannot be opened or was written by a newer pipedreamer
   */
  static open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const { idempotencyTtlMs = DEFAULT_IDEMPOTENCY_TTL_MS } = options;
    checkPositiveMs(idempotencyTtlMs, "idempotencyTtlMs", "open run store");
    try {
      durabilityOf(options);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      return Promise.resolve(new SqliteStore(path, options));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return Promise.reject(
        new Error(`Cannot open run store: SQLite file "${path}": ${detail}`, { cause: error }),
      );
    }
  }

  private constructor(path: string, options: SqliteStoreOptions) {
    super();
    this.durability = durabilityOf(options);
    const memory = path === ":memory:" || path === "" || path.startsWith("file::memory:");
    this.#wal = this.durability === "full" && !memory
      ? new WalSync(`${path}-wal`, options.syncFile, () => this.#flush())
      : undefined;
    this.#group = new group.GroupCommit((text) => this.#sql(text), this.#wal, this.leases.forget);
    this.#now = options.now ?? Date.now;
    this.#idempotencyTtlMs = options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.#db = new DatabaseSync(path);
    try {
      this.#db.exec("PRAGMA busy_timeout = 5000");
      this.#db.exec("PRAGMA journal_mode = WAL");
      // full adds its own fsync of the WAL after each commit, off the main thread.
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
      this.#db.exec("PRAGMA foreign_keys = ON");
      migrateSqlite(this.#db, this.#now());
    } catch (error) {
      this.#db.close();
      throw error;
    }
    this.cache = sqliteCache({
      sql: (text) => this.#sql(text),
      write: (body) => this.#write(body, true),
      durable: () => this.#durable(),
      now: this.#now,
    });
  }

  async createRun(record: RunRecord, options: CreateRunOptions = {}): Promise<CreateRunResult> {
    const row = encodeRun(record);
    const nodes = Object.entries(record.nodes).map((
      [id, node],
    ) => [id, nodeJson(record.runId, id, node)]);
    const { idempotencyKey: key, owner, leaseMs = DEFAULT_LEASE_MS } = options;
    if (key !== undefined) requireId(key, "idempotencyKey", "create run");
    if (owner !== undefined) requireId(owner, "owner", "create run");
    checkPositiveMs(leaseMs, "leaseMs", "create run");
    const now = this.#now();
    // Resolved at the commit, durable() to wait for the fsync (sync runs: their end covers it).
    const early = options.beforeDurable === true && this.#wal !== undefined;
    const durable = early ? { durable: () => this.#durable() } : {};
    const how = early ? group.COMMITTED_ATOMIC : true;
    return this.#write(() => {
      if (key !== undefined) {
        this.#sql("DELETE FROM idempotency_keys WHERE workflow = ? AND key = ? AND expires_at <= ?")
          .run(row.workflow, key, now);
        const claimed = this.#sql(
          `INSERT INTO idempotency_keys (workflow, key, run_id, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT DO NOTHING`,
        ).run(row.workflow, key, row.run_id, now + this.#idempotencyTtlMs);
        if (claimed.changes === 0) {
          const existing = this.#sql(
            "SELECT run_id FROM idempotency_keys WHERE workflow = ? AND key = ?",
          ).get(row.workflow, key);
          const record = this.#read(existing?.run_id as string)!;
          return { record, created: false, ...durable };
        }
      }
      if (this.#sql("SELECT 1 FROM runs WHERE run_id = ?").get(row.run_id)) {
        throw new TypeError(`Cannot create run: run id "${row.run_id}" already exists`);
      }
      const apart = storedApart(row.data);
      const { lastInsertRowid: seq } = this.#sql(
        `INSERT INTO runs (seq, run_id, workflow, status, created_at, data, result, error,
           started_at, finished_at, duration_ms, owner, lease_until, lease_epoch)
         VALUES (${NEXT_RUN_SEQ_SQL}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        row.run_id,
        row.workflow,
        row.status,
        now,
        apart ? "" : row.data,
        row.result,
        row.error,
        row.started_at,
        row.finished_at,
        row.duration_ms,
        owner ?? null,
        owner === undefined ? null : now + leaseMs,
        owner === undefined ? 0 : 1,
      );
      if (apart) this.#sql("INSERT INTO run_inputs (seq, data) VALUES (?, ?)").run(seq, row.data);
      const insertNode = this.#sql(
        "INSERT INTO run_nodes (run_seq, node_id, record) VALUES (?, ?, ?)",
      );
      for (const [id, node] of nodes) insertNode.run(seq, id!, node!);
      const created: CreateRunResult = { record: this.#read(row.run_id)!, created: true };
      Object.assign(created, durable);
      if (owner !== undefined) created.lease = { owner, epoch: 1 };
      return created;
    }, how);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    await this.#durable();
    return this.#read(runId);
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunPage> {
    const { limit, before } = pageOf(options);
    const statuses = statusFilter(options.status);
    await this.#durable();
    const { sql, params } = listRunsQuery(options, before, limit, statuses);
    const rows = this.#sql(sql).all(...params);
    const page = rows.slice(0, limit);
    return {
      runs: page.map((r) => decodeRun(r as unknown as RunRow)),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : undefined,
    };
  }

  async updateRun(runId: string, update: RunUpdate, fence?: Lease): Promise<boolean> {
    const set = encodeUpdate(update);
    checkFence(fence);
    const sql = `UPDATE runs SET ${
      set.map(([column]) => `${column} = ?`).join(", ")
    } WHERE run_id = ?`;
    const values = set.map(([, value]) => value);
    return this.#write(() =>
      this.leases.fenced(runId, fence) &&
      (set.length === 0 || this.#sql(sql).run(...values, runId).changes > 0), group.TRANSITION);
  }

  async updateNode(
    runId: string,
    nodeId: string,
    node: NodeRecord,
    fence?: Lease,
  ): Promise<boolean> {
    requireId(nodeId, "nodeId", "update node");
    checkFence(fence);
    const json = nodeJson(runId, nodeId, node);
    return this.#write(() =>
      this.leases.fenced(runId, fence) &&
      this.#sql(
          `INSERT INTO run_nodes (run_seq, node_id, record)
         SELECT seq, ?2, ?3 FROM runs WHERE run_id = ?1
         ON CONFLICT (run_seq, node_id) DO UPDATE SET record = excluded.record`,
        ).run(runId, nodeId, json).changes > 0, group.TRANSITION);
  }

  async listUnfinished(options: ListUnfinishedOptions = {}): Promise<RunRecord[]> {
    await this.#durable();
    const rows = options.workflow === undefined
      ? this.#sql(
        `SELECT ${SQLITE_RUN_COLUMNS} FROM runs WHERE status IN (${UNFINISHED}) ORDER BY seq`,
      )
        .all()
      : this.#sql(
        `SELECT ${SQLITE_RUN_COLUMNS} FROM runs WHERE workflow = ? AND status IN (${UNFINISHED})
         ORDER BY seq`,
      ).all(options.workflow);
    return rows.map((row) => this.#decodeWithNodes(row));
  }

  async appendLogs(runId: string, lines: LogLine[], fence?: Lease): Promise<boolean> {
    if (!Array.isArray(lines)) throw new TypeError("Cannot append logs: lines must be an array");
    checkFence(fence);
    const rows = lines.map((line) =>
      [line.node ?? null, jsonOf(line, `a log line of run "${runId}"`, "append logs")] as const
    );
    return this.#write(() => {
      if (!this.leases.fenced(runId, fence)) return false;
      const row = this.#sql(
        "UPDATE runs SET log_seq = log_seq + ? WHERE run_id = ? RETURNING log_seq",
      )
        .get(lines.length, runId);
      if (!row) return false;
      const first = Number(row.log_seq) - lines.length + 1;
      const insert = this.#sql(
        "INSERT INTO run_logs (run_id, seq, node, line) VALUES (?, ?, ?, ?)",
      );
      rows.forEach(([node, line], i) => insert.run(runId, first + i, node, line));
      return true;
    }, group.TRANSITIONS);
  }

  async getLogs(runId: string, options: GetLogsOptions = {}): Promise<StoredLogLine[]> {
    checkLogsOptions(options);
    const { node, afterSeq = 0, limit = -1 } = options;
    await this.#durable();
    const rows = node === undefined
      ? this.#sql(
        "SELECT seq, line FROM run_logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
      )
        .all(runId, afterSeq, limit)
      : this.#sql(
        `SELECT seq, line FROM run_logs WHERE run_id = ? AND seq > ? AND node = ?
         ORDER BY seq LIMIT ?`,
      ).all(runId, afterSeq, node, limit);
    return rows.map((r) => ({ ...JSON.parse(r.line as string), seq: Number(r.seq) }));
  }

  async prune(options: PruneOptions): Promise<number> {
    checkPrune(options);
    const { maxRuns, maxAgeMs, workflow } = options;
    const scope = `status IN (${FINISHED})${workflow === undefined ? "" : " AND workflow = ?"}`;
    const scoped = workflow === undefined ? [] : [workflow];
    const now = this.#now();
    return this.#write(() => {
      let deleted = 0;
      if (maxRuns !== undefined) {
        deleted += Number(
          this.#sql(
            `DELETE FROM runs WHERE seq IN
             (SELECT seq FROM runs WHERE ${scope} ORDER BY seq DESC LIMIT -1 OFFSET ?)`,
          ).run(...scoped, maxRuns).changes,
        );
      }
      if (maxAgeMs !== undefined) {
        deleted += Number(
          this.#sql(`DELETE FROM runs WHERE ${scope} AND created_at < ?`)
            .run(...scoped, now - maxAgeMs).changes,
        );
      }
      this.#sql("DELETE FROM node_cache WHERE expires_at <= ?").run(now);
      return deleted;
    }, true);
  }

  async getState(key: string): Promise<unknown> {
    await this.#durable();
    const row = this.#sql("SELECT value FROM engine_state WHERE key = ?")
      .get(requireId(key, "key", "read state"));
    return row ? JSON.parse(row.value as string) : undefined;
  }

  async setState(key: string, value: unknown): Promise<void> {
    const id = requireId(key, "key", "write state");
    const json = stateJson(value, "write state");
    await this.#write(() =>
      this.#sql(
        `INSERT INTO engine_state (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(id, json)
    );
  }

  async setStateIf(key: string, expected: unknown, next: unknown): Promise<boolean> {
    requireId(key, "key", "write state");
    const value = stateJson(next, "write state");
    const previous = expected === undefined ? undefined : JSON.stringify(expected);
    return this.#write(() => {
      const result = previous === undefined
        ? this.#sql("INSERT INTO engine_state (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING")
          .run(key, value)
        : this.#sql("UPDATE engine_state SET value = ? WHERE key = ? AND value = ?")
          .run(value, key, previous);
      return result.changes > 0;
    });
  }

  lazily<T>(write: () => T): T {
    return this.#group.lazily(write);
  }

  async committed(): Promise<void> {
    if (this.#closed) throw new TypeError("Cannot use run store: it is closed");
    const failure = this.#wal?.failure;
    if (failure) throw failure;
    return this.#group.committed();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    // The queued writes were committed; wait until they are durable too.
    await this.#wal?.close();
    this.#statements.clear();
    this.#db.close();
  }

  #read(runId: string): RunRecord | undefined {
    const row = this.#sql(`SELECT ${SQLITE_RUN_COLUMNS} FROM runs WHERE run_id = ?`).get(runId);
    return row ? this.#decodeWithNodes(row) : undefined;
  }

  #decodeWithNodes(row: Row): RunRecord {
    const nodes = this.#sql(
      "SELECT node_id, record FROM run_nodes WHERE run_seq = ? ORDER BY rowid",
    )
      .all(row.seq as number)
      .map((n) => [n.node_id, n.record] as [string, string]);
    return decodeRun(row as unknown as RunRow, nodes);
  }

  #sql(text: string): StatementSync {
    if (this.#closed) throw new TypeError("Cannot use run store: it is closed");
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /** Queues a write for this turn's transaction; settles once it committed (`WriteMode`). */
  #write<T>(body: () => T, how: boolean | group.How = false): Promise<T> {
    if (this.#closed) return Promise.reject(new TypeError("Cannot use run store: it is closed"));
    const failure = this.#wal?.failure;
    if (failure) return Promise.reject(failure);
    return this.#group.write(body, how);
  }

  /** Applies the queued writes in order, in one transaction, then settles them. */
  #flush = (): void => this.#group.flush();

  /**
   * Commits the queued writes and resolves once every commit made so far is durable (at once
   * for `relaxed`).
   */
  #durable(): Promise<void> {
    this.#flush();
    return this.#wal ? this.#wal.durable() : Promise.resolve();
  }
}
