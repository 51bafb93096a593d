/**
 * What every benchmarked system offers a DAG workload: one run per call, resolving with the
 * run's result (checked against the project's expected value).
 *
 * @module
 */

/** One system, set up for one generated project. */
export interface DagSystem {
  /** Executes the workflow once; resolves with its result. */
  run(): Promise<unknown>;
  /** Releases workers, databases, servers. */
  close(): Promise<void>;
}

/** Fails loudly when a system computed something else than expected. */
export function checkResult(system: string, workload: string, got: unknown, want: unknown): void {
  if (got !== want) {
    throw new Error(
      `Cannot trust ${system} on ${workload}: result ${JSON.stringify(got)}, expected ${
        JSON.stringify(want)
      }`,
    );
  }
}
