/**
 * The shape of one case of the shared run store suite (`testRunStore()` in
 * `_common_suite.ts`), in its own module so the case files and the suite do not import each other.
 *
 * @module
 */

import type { FakeClock } from "../testing/mod.ts";
import type { RunStore } from "./run_store.ts";

/** What each case receives: a fresh, empty store on a fake clock. */
export interface StoreCaseContext {
  /** The time source of every store of the case. */
  clock: FakeClock;
  store: RunStore;
  /** Another store on the same data (a restart or a second replica); closed after the case. */
  openAgain(): Promise<RunStore>;
}

/** One named behaviour every implementation must show. */
export interface StoreCase {
  name: string;
  fn(context: StoreCaseContext): Promise<void>;
}
