/**
 * The node output cache (`cache:` nodes) of the SQLite store: one table keyed by code hash +
 * input hash + config, rows expiring at their ttl and deleted as the cache is written.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { NodeCache } from "../engine/mod.ts";
import { checkPositiveMs, jsonOf, requireId } from "./_run_codec.ts";

/** What the cache needs of its store. */
export interface SqliteCacheDeps {
  /** A prepared statement (cached by the store). */
  sql(text: string): StatementSync;
  /** Queues an atomic write into the store's group commit. */
  write(body: () => void): Promise<void>;
  /** Resolves once every write queued so far is committed and durable. */
  durable(): Promise<void>;
  now(): number;
}

/** The {@link NodeCache} over the store's `node_cache` table. */
export function sqliteCache(deps: SqliteCacheDeps): NodeCache {
  return {
    get: async (key) => {
      await deps.durable();
      const row = deps.sql("SELECT value FROM node_cache WHERE key = ? AND expires_at > ?")
        .get(requireId(key, "key", "read cache"), deps.now());
      return row ? JSON.parse(row.value as string) : undefined;
    },
    set: async (key, value, ttlMs) => {
      requireId(key, "key", "write cache");
      checkPositiveMs(ttlMs, "ttlMs", "write cache");
      const now = deps.now();
      const json = jsonOf(value, `the cache entry "${key}"`, "write cache");
      await deps.write(() => {
        deps.sql(
          `INSERT INTO node_cache (key, value, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        ).run(key, json, now + ttlMs);
        deps.sql("DELETE FROM node_cache WHERE expires_at <= ?").run(now);
      });
    },
  };
}
