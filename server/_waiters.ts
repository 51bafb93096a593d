/**
 * A settable promise of a run's final record: what `RunManager.wait()` awaits for the runs this
 * replica owns.
 *
 * @module
 */

import type { RunRecord } from "../engine/mod.ts";

/** The promise of one run's final record and the functions that settle it. */
export interface Waiter {
  promise: Promise<RunRecord>;
  resolve: (record: RunRecord | Promise<RunRecord>) => void;
  reject: (error: unknown) => void;
}

/** How often `wait()` polls the store for a run executed by another replica. */
export const POLL_MS = 1_000;

/** A new unsettled waiter; its rejection is never unhandled. */
export function waiter(): Waiter {
  let resolve!: Waiter["resolve"];
  let reject!: Waiter["reject"];
  const promise = new Promise<RunRecord>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
