/**
 * The one test suite every {@link RunStore} implementation passes (hono's
 * `router/common.case.test.ts` pattern): an implementation's test file calls
 * {@link testRunStore} with a harness that opens fresh stores.
 *
 * @module
 */

import { FakeClock } from "../testing/mod.ts";
import type { RunStore, StoreOptions } from "./run_store.ts";
import type { StoreCase } from "./_store_case.ts";
import { RUN_CASES } from "./_common_cases_runs.ts";
import { DATA_CASES } from "./_common_cases_data.ts";
import { LEASE_CASES } from "./_common_cases_leases.ts";

export type { StoreCase, StoreCaseContext } from "./_store_case.ts";

/** Opens stores of one implementation. */
export interface StoreHarness {
  /** A fresh empty store, and a way to open more stores on the same data. */
  open(options: StoreOptions): Promise<{ store: RunStore; openAgain(): Promise<RunStore> }>;
  /** Releases everything the harness created (temp dirs, servers). */
  close(): Promise<void>;
}

/** Options of {@link testRunStore}. */
export interface TestRunStoreOptions {
  /** Skip the suite (e.g. PostgreSQL is not installed outside CI). @default false */
  ignore?: boolean;
}

/**
 * Registers the shared suite as one `Deno.test` named `name` with one step per case.
 *
 * @example
 * ```ts
 * testRunStore("SqliteStore", async () => harness);
 * ```
 */
export function testRunStore(
  name: string,
  setup: () => Promise<StoreHarness>,
  options: TestRunStoreOptions = {},
): void {
  Deno.test({
    name: `${name} passes the shared run store suite`,
    ignore: options.ignore ?? false,
    async fn(t) {
      const harness = await setup();
      try {
        for (const c of [...RUN_CASES, ...LEASE_CASES, ...DATA_CASES]) {
          await t.step(c.name, () => runCase(harness, c));
        }
      } finally {
        await harness.close();
      }
    },
  });
}

async function runCase(harness: StoreHarness, c: StoreCase): Promise<void> {
  const clock = new FakeClock(Date.UTC(2025, 0, 1));
  const { store, openAgain } = await harness.open({ now: () => clock.now() });
  const opened: RunStore[] = [store];
  try {
    await c.fn({
      clock,
      store,
      openAgain: async () => {
        const again = await openAgain();
        opened.push(again);
        return again;
      },
    });
  } finally {
    for (const s of opened) await s.close();
  }
}
