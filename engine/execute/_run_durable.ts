/**
 * The durable part of a run (SPEC §9–10): where map items, step results and waits are kept,
 * whether waits park the run, and which nodes parked it.
 *
 * @module
 */

import type { DurableState } from "../durable_protocol.ts";
import type { ChildRunner, Clock, StepStore } from "../runner_protocol.ts";

/** What a run's durable nodes share. */
export class RunDurable {
  /** Nodes that parked the run at a sleep or wait (the run then ends `waiting`). */
  readonly parked = new Set<string>();

  constructor(
    /** Map items, step results and waits. */
    readonly state: DurableState,
    /**
     * True in dev/serve: an unresolved wait parks the run (it ends `waiting` and is resumed
     * when the wait resolves). False in exec/test: the executor sleeps on its clock and takes
     * events from `events`.
     */
    readonly park: boolean,
    /** exec/test: payloads of the events a wait node receives, by event name. */
    readonly events: Readonly<Record<string, unknown>>,
    /** Runs the child run of a `workflow:` node (or of one of its map elements). */
    readonly runChild: ChildRunner,
    /** The clock sleep and wait nodes wait on when not parking (fixtures: an instant one). */
    readonly waitClock: Clock | undefined,
  ) {}

  /** The `ctx.step` results of one node (`key` = node id, or `node[index]` for an element). */
  steps(runId: string, key: string): StepStore {
    return {
      get: (name) => this.state.getStep(runId, key, name),
      put: (name, value) => this.state.putStep(runId, key, name, value),
    };
  }
}
