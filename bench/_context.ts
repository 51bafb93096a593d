/**
 * What every workload gets from bench/main.ts.
 *
 * @module
 */

import type { Repeat } from "./_stats.ts";

/** The bench run's settings and output. */
export interface BenchContext {
  /** `--quick`: fewer repetitions and smaller sizes. */
  quick: boolean;
  repeat: Repeat;
  /** `--loader`: the HTTP load generator; undefined picks wrk when it is installed. */
  loader: "wrk" | "deno" | undefined;
  /** Generated projects and databases go here; removed at the end. */
  tmpDir: string;
  /** Prints a line (tables, notes) to stdout. */
  print(text: string): void;
  /** Prints progress to stderr. */
  progress(text: string): void;
}
