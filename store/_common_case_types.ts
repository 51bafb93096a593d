/**
 * The shape of a case of the shared store suite (`_common_suite.ts`), in its own module so
 * that the case files and the suite do not import each other.
 *
 * @module
 */

import type { RunStore } from "./run_store.ts";

/** A manually advanced time source shared by every store of one case. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

/** What each case receives: a fresh, empty store on a fake clock. */
export interface StoreCaseContext {
  clock: TestClock;
  store: RunStore;
  /** Another store on the same data (a restart or a second replica); closed after the case. */
  openAgain(): Promise<RunStore>;
}

/** One named behaviour every implementation must show. */
export interface StoreCase {
  name: string;
  fn(context: StoreCaseContext): Promise<void>;
}
