/**
 * One run inside the executor, as the parts its nodes share: each owns its mutable state and
 * the others call its methods. Created by `executeRun()`, which also owns the run's
 * `Scheduler` (ready queue, active count, parallelism).
 *
 * @module
 */

import type { HookChain } from "./_hook_chain.ts";
import type { RunContext } from "./_run_context.ts";
import type { RunNodes } from "./_run_nodes.ts";
import type { RunStop } from "./_run_stop.ts";

export interface Run {
  /** Read-only: workflow, plan, runner, clock, config, secrets, tmpDir, mocks, cache, redact. */
  readonly ctx: RunContext;
  /** The run record and the node slots. */
  readonly nodes: RunNodes;
  /** Stop and failure state: stopping, why, cancelled, the first failure. */
  readonly stop: RunStop;
  /** Ordered hook calls and the hook failure. */
  readonly hooks: HookChain;
}
