/**
 * The shared run store: Postgres through `pg`, for several replicas sharing one history.
 * Atomicity across replicas comes from the database (unique constraints, row locks, an advisory
 * lock for migrations), never from process memory.
 *
 * @module
 */

// @ts-types="@types/pg"
import type pg from "pg";
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
  listFilters,
  nodeJson,
  pageOf,
  requireId,
  RUN_COLUMNS,
  type RunRow,
  stateJson,
  statusFilter,
  UNFINISHED_STATUSES,
} from "./_run_codec.ts";
import { migratePostgres } from "./_postgres_migrations.ts";
import { PostgresDurable } from "./_postgres_durable.ts";
import { DurableMethods } from "./_durable_methods.ts";
import { leaseNow, PostgresLeases } from "./_postgres_leases.ts";
import type {
  CreateRunOptions,
  CreateRunResult,
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

type SeqRow = RunRow & { seq: string };

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions extends StoreOptions {
  /** Connections in the pool. @default 10 */
  maxConnections?: number;
  /** How long to wait for a connection. @default 10_000 */
  connectTimeoutMs?: number;
}

/**
 * A {@link RunStore} in a Postgres database (a dedicated one is recommended: the tables have
 * plain names such as `runs`).
 *
 * @example
 * ```ts
 * import { PostgresStore } from "./postgres_store.ts";
 * const store = await PostgresStore.open("postgres://pipedreamer@db:5432/pipedreamer");
 * console.log((await store.listUnfinished()).length);
 * await store.close();
 * ```
 */
export class PostgresStore extends DurableMethods implements RunStore {
  /** Concurrent writes go over different pool connections and may land out of order. */
  readonly ordersWrites = false;
  readonly cache: NodeCache;
  #pool: pg.Pool;
  #now: () => number;
  /** The `now` option for lease times; null: the database's clock (see leaseNow). */
  #leaseNow: () => number | null;
  protected readonly leases: PostgresLeases;
  #idempotencyTtlMs: number;
  /** Tail of each run's write chain: writes of one run reach the database in call order. */
  #tails = new Map<string, Promise<void>>();
  #closed = false;
  protected readonly durable = new PostgresDurable({
    query: (text, values, name) => this.#query(text, values, name),
    serial: (key, write) => this.#serial(key, write),
    leases: () => this.leases,
  });

  /**
   * Connects and migrates the schema.
   * @throws {RangeError} when idempotencyTtlMs is not a positive number
   * @throws {Error} when the server cannot be reached or the schema is newer than this build
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const { idempotencyTtlMs = DEFAULT_IDEMPOTENCY_TTL_MS } = options;
    checkPositiveMs(idempotencyTtlMs, "idempotencyTtlMs", "open run store");
    const relaxed = durabilityOf(options) === "relaxed";
    // pg is loaded here, so a process on another store (SQLite) never loads it.
    // @ts-types="@types/pg"
    const { default: pgModule } = await import("pg");
    const pool = new pgModule.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      // full keeps the server's synchronous_commit (on by default); relaxed turns it off for
      // the store's connections only.
      ...(relaxed ? { options: "-c synchronous_commit=off" } : {}),
    });
    // An idle connection dropped by the server must not crash the process; the pool reconnects.
    pool.on("error", () => {});
    const store = new PostgresStore(pool, options);
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client, store.#now());
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot open run store: Postgres at ${describe(url)}: ${detail}`, {
        cause: error,
      });
    }
    return store;
  }

  private constructor(pool: pg.Pool, options: StoreOptions) {
    super();
    this.#pool = pool;
    this.#now = options.now ?? Date.now;
    const now = options.now;
    this.#leaseNow = now ? () => now() : () => null;
    this.leases = new PostgresLeases({
      query: (text, values, name) => this.#query(text, values, name),
      leaseNow: () => this.#leaseNow(),
    });
    this.#idempotencyTtlMs = options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.cache = {
      get: async (key) => {
        const { rows } = await this.#query<{ value: string }>(
          "SELECT value FROM node_cache WHERE key = $1 AND expires_at > $2",
          [requireId(key, "key", "read cache"), this.#now()],
        );
        return rows[0] ? JSON.parse(rows[0].value) : undefined;
      },
      set: async (key, value, ttlMs) => {
        requireId(key, "key", "write cache");
        checkPositiveMs(ttlMs, "ttlMs", "write cache");
        const now = this.#now();
        await this.#query(
          `INSERT INTO node_cache (key, value, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
          [key, jsonOf(value, `the cache entry "${key}"`, "write cache"), now + ttlMs],
        );
        await this.#query("DELETE FROM node_cache WHERE expires_at <= $1", [now]);
      },
    };
  }

  async createRun(record: RunRecord, options: CreateRunOptions = {}): Promise<CreateRunResult> {
    const row = encodeRun(record);
    const nodes = Object.entries(record.nodes);
    const nodeTexts = nodes.map(([id, node]) => nodeJson(record.runId, id, node));
    const { idempotencyKey: key, owner, leaseMs = DEFAULT_LEASE_MS } = options;
    if (key !== undefined) requireId(key, "idempotencyKey", "create run");
    if (owner !== undefined) requireId(owner, "owner", "create run");
    checkPositiveMs(leaseMs, "leaseMs", "create run");
    const now = this.#now();
    const existing = await this.#transaction(async (client) => {
      if (key !== undefined) {
        await client.query(
          "DELETE FROM idempotency_keys WHERE workflow = $1 AND key = $2 AND expires_at <= $3",
          [row.workflow, key, now],
        );
        const claimed = await client.query(
          `INSERT INTO idempotency_keys (workflow, key, run_id, expires_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [row.workflow, key, row.run_id, now + this.#idempotencyTtlMs],
        );
        if (claimed.rowCount === 0) {
          const { rows } = await client.query<{ run_id: string }>(
            "SELECT run_id FROM idempotency_keys WHERE workflow = $1 AND key = $2",
            [row.workflow, key],
          );
          return rows[0]!.run_id;
        }
      }
      const inserted = await client.query(
        `INSERT INTO runs (run_id, workflow, status, created_at, data, result, error, started_at,
           finished_at, duration_ms, owner, lease_until, lease_epoch)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
           CASE WHEN $11::text IS NULL THEN NULL ELSE ${leaseNow(13)} + $12::bigint END,
           CASE WHEN $11::text IS NULL THEN 0 ELSE 1 END)
         ON CONFLICT (run_id) DO NOTHING`,
        [
          row.run_id,
          row.workflow,
          row.status,
          now,
          row.data,
          row.result,
          row.error,
          row.started_at,
          row.finished_at,
          row.duration_ms,
          owner ?? null,
          leaseMs,
          this.#leaseNow(),
        ],
      );
      if (inserted.rowCount === 0) {
        throw new TypeError(`Cannot create run: run id "${row.run_id}" already exists`);
      }
      await client.query(
        `INSERT INTO run_nodes (run_id, node_id, record)
         SELECT $1, n, r FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t (n, r, o)
         ORDER BY o`,
        [row.run_id, nodes.map(([id]) => id), nodeTexts],
      );
      return undefined;
    });
    const result: CreateRunResult = {
      record: (await this.getRun(existing ?? row.run_id))!,
      created: !existing,
    };
    if (!existing && owner !== undefined) result.lease = { owner, epoch: 1 };
    return result;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const { rows } = await this.#query<SeqRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`,
      [runId],
      "get-run",
    );
    return rows[0] && (await this.#withNodes(rows))[0];
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunPage> {
    const { limit, before } = pageOf(options);
    const statuses = statusFilter(options.status);
    const params: unknown[] = [before];
    const where = ["seq < $1"];
    if (options.workflow !== undefined) {
      params.push(options.workflow);
      where.push(`workflow = $${params.length}`);
    }
    if (statuses) {
      params.push(statuses);
      where.push(`status = ANY($${params.length}::text[])`);
    }
    const { runIdPrefix, createdFrom, createdBefore } = listFilters(options);
    if (runIdPrefix !== undefined) {
      params.push(runIdPrefix);
      where.push(`starts_with(run_id, $${params.length})`);
    }
    if (createdFrom !== undefined) {
      params.push(createdFrom);
      where.push(`created_at >= $${params.length}`);
    }
    if (createdBefore !== undefined) {
      params.push(createdBefore);
      where.push(`created_at < $${params.length}`);
    }
    params.push(limit + 1);
    const { rows } = await this.#query<SeqRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE ${where.join(" AND ")}
       ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    return {
      runs: page.map((r) => decodeRun(r)),
      nextCursor: rows.length > limit ? page[page.length - 1]!.seq : undefined,
    };
  }

  async updateRun(runId: string, update: RunUpdate, fence?: Lease): Promise<boolean> {
    const set = encodeUpdate(update);
    checkFence(fence);
    return await this.#serial(runId, async () => {
      if (set.length === 0) return await this.leases.exists(runId, fence);
      const assignments = set.map(([column], i) => `${column} = $${i + 4}`).join(", ");
      const result = await this.#query(
        `UPDATE runs SET ${assignments} WHERE run_id = $1
         AND ($2::text IS NULL OR (owner = $2 AND lease_epoch = $3))`,
        [runId, fence?.owner ?? null, fence?.epoch ?? 0, ...set.map(([, value]) => value)],
      );
      return result.rowCount! > 0 || await this.leases.refused(runId, fence);
    });
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
    return await this.#serial(runId, async () => {
      // FOR SHARE: a concurrent claim (UPDATE of the run row) waits for this write or, when it
      // commits first, makes the fence check fail: no write lands after a takeover.
      const result = await this.#query(
        `WITH r AS (SELECT 1 FROM runs WHERE run_id = $1
           AND ($4::text IS NULL OR (owner = $4 AND lease_epoch = $5)) FOR SHARE)
         INSERT INTO run_nodes (run_id, node_id, record)
         SELECT $1, $2, $3 FROM r
         ON CONFLICT (run_id, node_id) DO UPDATE SET record = EXCLUDED.record`,
        [runId, nodeId, json, fence?.owner ?? null, fence?.epoch ?? 0],
        "update-node-fenced",
      );
      return result.rowCount! > 0 || await this.leases.refused(runId, fence);
    });
  }

  async listUnfinished(options: ListUnfinishedOptions = {}): Promise<RunRecord[]> {
    const { rows } = await this.#query<SeqRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status = ANY($1::text[])
       AND ($2::text IS NULL OR workflow = $2) ORDER BY seq`,
      [UNFINISHED_STATUSES, options.workflow ?? null],
    );
    return await this.#withNodes(rows);
  }

  async appendLogs(runId: string, lines: LogLine[], fence?: Lease): Promise<boolean> {
    if (!Array.isArray(lines)) throw new TypeError("Cannot append logs: lines must be an array");
    checkFence(fence);
    const nodes = lines.map((line) => line.node ?? null);
    const texts = lines.map((line) => jsonOf(line, `a log line of run "${runId}"`, "append logs"));
    return await this.#serial(runId, async () => {
      if (lines.length === 0) return await this.leases.exists(runId, fence);
      // One statement: the row lock taken by the UPDATE orders concurrent appenders, so the
      // sequence numbers become visible in increasing order (safe for SSE resume).
      const result = await this.#query(
        `WITH r AS (UPDATE runs SET log_seq = log_seq + $2::bigint WHERE run_id = $1
           AND ($5::text IS NULL OR (owner = $5 AND lease_epoch = $6)) RETURNING log_seq)
         INSERT INTO run_logs (run_id, seq, node, line)
         SELECT $1, r.log_seq - $2::bigint + t.o, t.n, t.l
         FROM r, unnest($3::text[], $4::text[]) WITH ORDINALITY AS t (n, l, o)`,
        [runId, lines.length, nodes, texts, fence?.owner ?? null, fence?.epoch ?? 0],
        "append-logs-fenced",
      );
      return result.rowCount! > 0 || await this.leases.refused(runId, fence);
    });
  }

  async getLogs(runId: string, options: GetLogsOptions = {}): Promise<StoredLogLine[]> {
    checkLogsOptions(options);
    const { rows } = await this.#query<{ seq: string; line: string }>(
      `SELECT seq, line FROM run_logs WHERE run_id = $1 AND seq > $2
       AND ($3::text IS NULL OR node = $3) ORDER BY seq LIMIT $4`,
      [runId, options.afterSeq ?? 0, options.node ?? null, options.limit ?? null],
      "get-logs",
    );
    return rows.map((r) => ({ ...JSON.parse(r.line), seq: Number(r.seq) }));
  }

  async prune(options: PruneOptions): Promise<number> {
    checkPrune(options);
    const { maxRuns, maxAgeMs, workflow = null } = options;
    const scope = "status = ANY($1::text[]) AND ($2::text IS NULL OR workflow = $2)";
    const now = this.#now();
    return await this.#transaction(async (client) => {
      let deleted = 0;
      if (maxRuns !== undefined) {
        const result = await client.query(
          `DELETE FROM runs WHERE seq IN
           (SELECT seq FROM runs WHERE ${scope} ORDER BY seq DESC OFFSET $3)`,
          [FINISHED_STATUSES, workflow, maxRuns],
        );
        deleted += result.rowCount!;
      }
      if (maxAgeMs !== undefined) {
        const result = await client.query(
          `DELETE FROM runs WHERE ${scope} AND created_at < $3`,
          [FINISHED_STATUSES, workflow, now - maxAgeMs],
        );
        deleted += result.rowCount!;
      }
      await client.query("DELETE FROM node_cache WHERE expires_at <= $1", [now]);
      return deleted;
    });
  }

  async getState(key: string): Promise<unknown> {
    const { rows } = await this.#query<{ value: string }>(
      "SELECT value FROM engine_state WHERE key = $1",
      [requireId(key, "key", "read state")],
    );
    return rows[0] ? JSON.parse(rows[0].value) : undefined;
  }

  async setState(key: string, value: unknown): Promise<void> {
    await this.#query(
      `INSERT INTO engine_state (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [requireId(key, "key", "write state"), stateJson(value, "write state")],
    );
  }

  async setStateIf(key: string, expected: unknown, next: unknown): Promise<boolean> {
    requireId(key, "key", "write state");
    const value = stateJson(next, "write state");
    const result = expected === undefined
      ? await this.#query(
        "INSERT INTO engine_state (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [key, value],
      )
      : await this.#query("UPDATE engine_state SET value = $2 WHERE key = $1 AND value = $3", [
        key,
        value,
        JSON.stringify(expected),
      ]);
    return result.rowCount! > 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#tails.values());
    await this.#pool.end();
  }

  async #withNodes(rows: SeqRow[]): Promise<RunRecord[]> {
    if (rows.length === 0) return [];
    const { rows: nodeRows } = await this.#query<
      { run_id: string; node_id: string; record: string }
    >(
      "SELECT run_id, node_id, record FROM run_nodes WHERE run_id = ANY($1::text[]) ORDER BY pos",
      [rows.map((r) => r.run_id)],
      "get-nodes",
    );
    const byRun = new Map<string, [string, string][]>(rows.map((r) => [r.run_id, []]));
    for (const n of nodeRows) byRun.get(n.run_id)!.push([n.node_id, n.record]);
    return rows.map((r) => decodeRun(r, byRun.get(r.run_id)));
  }

  #query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>> {
    if (this.#closed) {
      return Promise.reject(new TypeError("Cannot use run store: it is closed"));
    }
    return this.#pool.query<R>({ text, values, name });
  }

  async #transaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new TypeError("Cannot use run store: it is closed");
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      const result = await body(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  #serial<T>(runId: string, write: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(runId) ?? Promise.resolve();
    const result = previous.then(write);
    const tail = result.then(() => {}, () => {});
    this.#tails.set(runId, tail);
    tail.then(() => {
      if (this.#tails.get(runId) === tail) this.#tails.delete(runId);
    });
    return result;
  }
}

/** host:port/database of a connection URL, without credentials (safe for error messages). */
function describe(url: string): string {
  try {
    const { hostname, port, pathname } = new URL(url);
    return `"${hostname}:${port || "5432"}${pathname}"`;
  } catch {
    return "the given URL";
  }
}
