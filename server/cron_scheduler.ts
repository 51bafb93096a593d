/**
 * In-process cron triggers for `dev` and `serve`: one loop per cron trigger on an injectable
 * clock, with the last fired tick kept in the run store so that a tick fires at most once across
 * replicas and restarts.
 *
 * @module
 */

import {
  type Clock,
  type CompiledWorkflow,
  type CronTrigger,
  nextCronTime,
  systemClock,
} from "../engine/mod.ts";
// engine/mod.ts does not export the compiler's cron function yet; this is the only reach into
// an engine-private file (see the report of issue 3: export `nextCronTime` from engine/mod.ts).
import type { RunStore } from "../store/mod.ts";
import { pause } from "./_timers.ts";

/** Options of {@link CronScheduler}. */
export interface CronSchedulerOptions {
  /** Keeps the last fired tick per trigger (compare-and-set: one replica wins a tick). */
  store: Pick<RunStore, "getState" | "setStateIf">;
  /** Starts the run of a tick; a rejection is reported to `onError` and the tick is spent. */
  submit: (input: unknown, trigger: CronTrigger) => Promise<unknown>;
  /** Time source of the ticks. @default systemClock */
  clock?: Clock;
  /**
   * On (re)start, the most recent tick within this window is fired when it was missed (the
   * trigger fired before, but not that tick). Older missed ticks are never replayed; a trigger
   * that never fired replays nothing. 0 disables the catch-up.
   * @default 300_000 (5 min, the startingDeadlineSeconds of the Kubernetes CronJobs)
   */
  catchUpMs?: number;
  /** Receives store and submit failures. @default ignore */
  onError?: (error: unknown) => void;
}

/** How many compare-and-set rounds a tick tries before giving up (another writer keeps winning). */
const CAS_ROUNDS = 5;
/** Upper bound of ticks scanned for the catch-up (a `* * * * *` schedule has 5 in 5 minutes). */
const MAX_SCAN = 10_000;

/**
 * The store key of a trigger's last fired tick: workflow, schedule and time zone, plus the
 * position among identical triggers. Changing the schedule starts a new history.
 */
export function cronStateKey(workflow: string, trigger: CronTrigger, duplicate = 0): string {
  const base = `cron:${workflow}:${trigger.schedule}@${trigger.timezone ?? "UTC"}`;
  return duplicate === 0 ? base : `${base}#${duplicate}`;
}

/**
 * Fires a workflow's cron triggers at their ticks (standard 5-field cron, time zone aware).
 * A tick is fired by whoever first moves the trigger's stored last tick forward with
 * `setStateIf`: two schedulers sharing a store (two replicas, or a restart) never fire the same
 * tick twice. Delivery is at most once: the tick is recorded before the run is submitted.
 * Ticks missed while no scheduler ran are not replayed, except the most recent one within
 * `catchUpMs` on start.
 *
 * @example
 * ```ts
 * import { CronScheduler } from "./cron_scheduler.ts";
 * import type { CompiledWorkflow } from "../engine/mod.ts";
 * import type { RunStore } from "../store/mod.ts";
 * declare const workflow: CompiledWorkflow;
 * declare const store: RunStore;
 * const cron = new CronScheduler({ store, submit: (input) => Promise.resolve(input) });
 * cron.schedule(workflow);
 * cron.stop();
 * ```
 */
export class CronScheduler {
  readonly #store: CronSchedulerOptions["store"];
  readonly #submit: CronSchedulerOptions["submit"];
  readonly #clock: Clock;
  readonly #catchUpMs: number;
  readonly #onError: (error: unknown) => void;
  #controller: AbortController | undefined;
  #loops: Promise<void>[] = [];

  /** @throws {RangeError} when catchUpMs is negative or not a number */
  constructor(options: CronSchedulerOptions) {
    this.#store = options.store;
    this.#submit = options.submit;
    this.#clock = options.clock ?? systemClock;
    this.#catchUpMs = options.catchUpMs ?? 300_000;
    this.#onError = options.onError ?? (() => {});
    if (!(this.#catchUpMs >= 0)) {
      throw new RangeError(
        `Cannot create cron scheduler: catchUpMs must be >= 0, got ${this.#catchUpMs}`,
      );
    }
  }

  /** Whether triggers are scheduled. */
  get active(): boolean {
    return this.#controller !== undefined;
  }

  /**
   * Schedules the cron triggers of `workflow`, replacing any earlier schedule (reload).
   * @throws {RangeError} when a trigger has an invalid schedule or time zone
   */
  schedule(workflow: CompiledWorkflow): void {
    const triggers = workflow.triggers.filter((t): t is CronTrigger => t.type === "cron");
    // Validate every schedule first, so that a bad one changes nothing.
    for (const trigger of triggers) {
      nextCronTime(trigger.schedule, new Date(this.#clock.now()), trigger);
    }
    this.stop();
    const controller = new AbortController();
    this.#controller = controller;
    const seen = new Map<string, number>();
    this.#loops = triggers.map((trigger) => {
      const base = cronStateKey(workflow.name, trigger);
      const duplicate = seen.get(base) ?? 0;
      seen.set(base, duplicate + 1);
      const key = cronStateKey(workflow.name, trigger, duplicate);
      return this.#loop(key, trigger, controller.signal);
    });
  }

  /** Stops every trigger; a tick being fired completes. */
  stop(): void {
    this.#controller?.abort();
    this.#controller = undefined;
  }

  /** Resolves when the loops of the current or last schedule have ended (after `stop()`). */
  async settled(): Promise<void> {
    await Promise.all(this.#loops);
  }

  async #loop(key: string, trigger: CronTrigger, signal: AbortSignal): Promise<void> {
    const tz = { timezone: trigger.timezone };
    try {
      await this.#catchUp(key, trigger, signal);
      let after = this.#clock.now();
      while (!signal.aborted) {
        const next = nextCronTime(trigger.schedule, new Date(after), tz)?.getTime();
        if (next === undefined) return;
        // Re-sleep when woken early (long delays are clamped by the system timer).
        while (!signal.aborted && this.#clock.now() < next) {
          await pause(this.#clock, next - this.#clock.now(), signal);
        }
        if (signal.aborted) return;
        await this.#fire(key, trigger, next);
        // Ticks that passed while firing (or while the process was suspended) are skipped.
        after = Math.max(next, this.#clock.now());
      }
    } catch (error) {
      this.#onError(
        new Error(`Cannot schedule cron trigger "${trigger.schedule}"`, { cause: error }),
      );
    }
  }

  async #catchUp(key: string, trigger: CronTrigger, signal: AbortSignal): Promise<void> {
    if (this.#catchUpMs <= 0 || signal.aborted) return;
    const now = this.#clock.now();
    const tz = { timezone: trigger.timezone };
    let latest: number | undefined;
    let t = nextCronTime(trigger.schedule, new Date(now - this.#catchUpMs), tz)?.getTime();
    for (let i = 0; t !== undefined && t <= now && i < MAX_SCAN; i++) {
      latest = t;
      t = nextCronTime(trigger.schedule, new Date(t), tz)?.getTime();
    }
    if (latest === undefined) return;
    const last = await this.#store.getState(key).catch((error) => {
      this.#onError(new Error(`Cannot read the last tick of cron "${key}"`, { cause: error }));
      return undefined;
    });
    // A trigger that never fired has nothing to catch up (a new deployment does not fire a
    // tick that passed before it started).
    if (typeof last !== "string" || !(Date.parse(last) < latest)) return;
    if (!signal.aborted) await this.#fire(key, trigger, latest);
  }

  /** Claims tick `at` with compare-and-set and submits its run; false when already fired. */
  async #fire(key: string, trigger: CronTrigger, at: number): Promise<boolean> {
    const tick = new Date(at).toISOString();
    try {
      for (let round = 0; round < CAS_ROUNDS; round++) {
        const stored = await this.#store.getState(key);
        if (typeof stored === "string" && Date.parse(stored) >= at) return false;
        if (await this.#store.setStateIf(key, stored, tick)) {
          await this.#submit(trigger.input, trigger);
          return true;
        }
      }
      return false;
    } catch (error) {
      this.#onError(
        new Error(`Cannot fire cron trigger "${trigger.schedule}" at ${tick}`, { cause: error }),
      );
      return false;
    }
  }
}
