/**
 * Throttled retention (SPEC §2 `retention`): after finished runs, old history is pruned at
 * most once per {@link PRUNE_EVERY_RUNS} runs or {@link PRUNE_EVERY_MS}, whichever comes first
 * (the first finished run always prunes).
 *
 * @module
 */

import type { Clock, CompiledWorkflow } from "../engine/mod.ts";
import type { RunStore } from "../store/mod.ts";

/** Finished runs between two prunes at most. */
export const PRUNE_EVERY_RUNS = 50;
/** Time between two prunes at most. */
export const PRUNE_EVERY_MS = 60_000;

/** Prunes a workflow's run history after runs finish, one prune at a time. */
export class RetentionPruner {
  #lastPrune = -Infinity;
  #finishedSince = 0;
  #pruning: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<RunStore, "prune">,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Notes a finished run of `workflow`; prunes when due and the workflow has retention. */
  finished(workflow: CompiledWorkflow): void {
    const retention = workflow.retention;
    if (!retention || (retention.maxRuns === undefined && retention.maxAgeMs === undefined)) {
      return;
    }
    this.#finishedSince++;
    const now = this.clock.now();
    if (this.#pruning) return;
    if (this.#finishedSince < PRUNE_EVERY_RUNS && now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    this.#finishedSince = 0;
    const options = { maxRuns: retention.maxRuns, maxAgeMs: retention.maxAgeMs };
    this.#pruning = this.store.prune({ ...options, workflow: workflow.name }).then(
      () => {},
      (error) =>
        this.onError(new Error(`Cannot prune the runs of "${workflow.name}"`, { cause: error })),
    ).finally(() => this.#pruning = undefined);
  }

  /** Resolves when no prune is in progress. */
  async settled(): Promise<void> {
    await this.#pruning;
  }
}
