/**
 * The state of a run manager and the internals that start, settle and cancel its runs; the
 * lease keeping (`_leases.ts`) and recovery scan (`_recovery.ts`) work on the same state.
 *
 * @module
 */

import {
  type Clock,
  type CompiledWorkflow,
  createRedactor,
  createRunner,
  isFinishedStatus,
  type NodeRunner,
  type RunRecord,
  RunStatus,
  systemClock,
} from "../engine/mod.ts";
import { handOverParked } from "./_durable_runs.ts";
import { runChildRun } from "./_child_runs.ts";
import type { Lease, RunStore } from "../store/mod.ts";
import type { CronScheduler } from "./cron_scheduler.ts";
import { DrainingError, QueueFullError } from "./errors.ts";
import { Heartbeat } from "./_heartbeat.ts";
import {
  type ActiveRun,
  activeRun,
  cancelWaitingRun,
  executeManaged,
  type Job,
  type RunDeps,
} from "./_managed_run.ts";
import { RetentionPruner } from "./_retention.ts";
import { prewarmSandboxes } from "./_prewarm.ts";
import { RunHub } from "./_run_hub.ts";
import type { RunManagerOptions } from "./_run_manager_options.ts";
import { RunMetrics } from "./_run_metrics.ts";
import { KeyedQueue } from "./_keyed_queue.ts";
import { pause, startTimeout } from "./_timers.ts";
import { POLL_MS, type Waiter, waiter } from "./_waiters.ts";

/** Everything a run manager holds, and the internals shared by its files. */
export class ManagerCore {
  readonly store: RunStore;
  readonly runner: NodeRunner;
  readonly ownsRunner: boolean;
  readonly secrets: Record<string, unknown>;
  readonly clock: Clock;
  readonly owner: string;
  readonly leaseMs: number;
  readonly cronCatchUpMs: number | undefined;
  readonly onError: (error: unknown) => void;
  readonly hub: RunHub;
  readonly metrics: RunMetrics;
  readonly queue: KeyedQueue<Job>;
  readonly active = new Map<string, ActiveRun>();
  /** Called when a run that just parked was queued again (a wait resolved meanwhile). */
  onRequeued: (runId: string) => void = () => {};
  /** Runs whose lease this manager holds: running, starting and waiting ones. */
  readonly owned = new Set<string>();
  /** The lease of each owned run not executing yet (an executing run's is `active.lease`). */
  readonly leases = new Map<string, Lease>();
  /** Owned runs taken over from the store (recovery), with their trigger. */
  readonly adopted = new Map<string, string | undefined>();
  /** Each executing run's execution, settled when it stops here (finished, parked or released). */
  readonly executions = new Map<string, Promise<void>>();
  /** See `RunManagerOptions.exclusiveStore`. */
  readonly exclusiveStore: boolean;
  readonly waiters = new Map<string, Waiter>();
  readonly closing = new AbortController();
  workflow: CompiledWorkflow;
  lock: Promise<unknown> = Promise.resolve();
  draining = false;
  closed = false;
  scanning = false;
  lastScan = 0;
  cron: CronScheduler | undefined;
  stopWake: (() => void) | undefined;
  readonly heartbeat: Heartbeat;
  readonly retention: RetentionPruner;
  readonly deps: RunDeps;

  /**
   * @param beat every leaseMs / 3 while runs are owned or recovery scans (see `_leases.ts`)
   * @throws {TypeError} when the workflow, store or owner is missing or malformed
   * @throws {RangeError} when leaseMs is not a positive number
   */
  constructor(options: RunManagerOptions, beat: () => Promise<void>) {
    const { workflow, store, leaseMs = 30_000, owner = crypto.randomUUID() } = options;
    if (typeof workflow !== "object" || workflow === null || typeof workflow.name !== "string") {
      throw new TypeError("Cannot create run manager: workflow must be a compiled workflow");
    }
    if (typeof store !== "object" || store === null) {
      throw new TypeError("Cannot create run manager: store must be a RunStore");
    }
    if (!(leaseMs > 0) || !Number.isFinite(leaseMs)) {
      throw new RangeError(`Cannot create run manager: leaseMs must be > 0, got ${leaseMs}`);
    }
    if (typeof owner !== "string" || owner === "") {
      throw new TypeError("Cannot create run manager: owner must be a non-empty string");
    }
    this.workflow = workflow;
    this.store = store;
    this.ownsRunner = options.runner === undefined;
    this.runner = options.runner ?? createRunner();
    if (options.prewarm) void prewarmSandboxes(this.runner, workflow);
    this.secrets = options.secrets ?? {};
    this.clock = options.clock ?? systemClock;
    this.owner = owner;
    this.leaseMs = leaseMs;
    this.exclusiveStore = options.exclusiveStore === true;
    this.cronCatchUpMs = options.cronCatchUpMs;
    this.onError = options.onError ?? (() => {});
    this.hub = new RunHub(this.onError);
    this.queue = new KeyedQueue<Job>(workflow.concurrency, (job) => job.record.input);
    this.metrics = new RunMetrics(() => ({
      workflow: this.workflow.name,
      running: this.active.size,
      queued: this.queue.size,
    }));
    this.metrics.seed(workflow.name);
    this.retention = new RetentionPruner(store, this.clock, this.onError);
    this.heartbeat = new Heartbeat(
      this.clock,
      leaseMs / 3,
      () => this.owned.size > 0 || this.scanning,
      beat,
      this.onError,
    );
    this.deps = {
      store,
      hub: this.hub,
      metrics: this.metrics,
      runner: this.runner,
      secrets: this.secrets,
      subWorkflowSecrets: options.subWorkflowSecrets ?? {},
      redact: createRedactor([this.secrets, options.subWorkflowSecrets ?? {}]),
      config: options.configOverlay,
      clock: this.clock,
      owner,
      leaseMs,
      k8s: options.k8s,
      tracer: options.tracer,
    };
    this.deps.runChild = (request) => runChildRun(this.deps, request);
  }

  /** See `RunManager.wait()`. */
  async wait(runId: string): Promise<RunRecord> {
    const local = this.waiters.get(runId);
    if (local) return await local.promise;
    for (;;) {
      const record = await this.store.getRun(runId);
      if (!record) throw new RangeError(`Cannot wait for run "${runId}": no such run`);
      if (isFinishedStatus(record.status)) return record;
      const again = this.waiters.get(runId);
      if (again) return await again.promise;
      if (this.closed) {
        throw new DrainingError(`Cannot wait for run "${runId}": the run manager is closed`);
      }
      await pause(this.clock, POLL_MS, this.closing.signal);
    }
  }

  checkAccepting(): void {
    if (this.draining || this.closed) {
      throw new DrainingError(
        `Cannot start a run of workflow "${this.workflow.name}": the server is shutting down; retry on another replica or after the restart`,
      );
    }
  }

  queueFull(key: string): QueueFullError {
    const { maxRuns, queueLimit, key: pointer } = this.queue.settings;
    const shown = key.length > 100 ? `${key.slice(0, 100)}…` : key;
    const of = pointer === undefined ? "" : ` of key ${pointer} = ${JSON.stringify(shown)}`;
    return new QueueFullError(
      queueLimit <= 0
        ? `Cannot start a run of workflow "${this.workflow.name}": ${maxRuns} runs${of} are running and queueLimit is 0; retry later`
        : `Cannot queue a run of workflow "${this.workflow.name}": ${
          this.queue.waiting(key)
        } runs${of} are waiting (queueLimit ${queueLimit}); retry later`,
      { queueLimit },
    );
  }

  /** Runs `body` after every earlier exclusive section (submit, scan, drain). */
  exclusive<T>(body: () => Promise<T>): Promise<T> {
    const result = this.lock.then(body);
    this.lock = result.catch(() => {});
    return result;
  }

  own(runId: string, lease?: Lease): void {
    this.owned.add(runId);
    if (lease) this.leases.set(runId, lease);
    if (!this.waiters.has(runId)) this.waiters.set(runId, waiter());
    this.heartbeat.poke();
  }

  /** Ends the local wait for a run; a run that is not over (taken by another replica) is polled. */
  settle(runId: string, outcome: RunRecord | Error): void {
    const w = this.waiters.get(runId);
    if (!w) return;
    this.waiters.delete(runId);
    if (outcome instanceof Error) w.reject(outcome);
    else if (isFinishedStatus(outcome.status)) w.resolve(outcome);
    else w.resolve(this.wait(runId));
  }

  /** Starts every waiting run that may start, then arms the start-delay timer. */
  pump(): void {
    if (this.draining || this.closed) return;
    for (;;) {
      const entry = this.queue.takeReady(this.clock.now());
      if (!entry) break;
      this.launch(entry.value, true);
    }
    this.stopWake?.();
    this.stopWake = undefined;
    const at = this.queue.nextReadyAt();
    if (at !== undefined) {
      this.stopWake = startTimeout(this.clock, at - this.clock.now(), () => {
        this.stopWake = undefined;
        this.pump();
      });
    }
  }

  /** The lease this manager holds on an owned run. */
  leaseOf(runId: string): Lease | undefined {
    return this.active.get(runId)?.lease ?? this.leases.get(runId);
  }

  /** Forgets an owned run (it ended, was released or taken over). */
  disown(runId: string): void {
    this.owned.delete(runId);
    this.leases.delete(runId);
    this.adopted.delete(runId);
  }

  /** Takes a slot synchronously, then executes the run in the background. */
  launch(job: Job, claim: boolean): void {
    job.lease ??= this.leases.get(job.record.runId);
    const active = activeRun(job);
    const { runId } = active;
    // Another replica took the run over: stop its attempts and say so (nothing more is written).
    active.onLeaseLost = (error) => {
      active.controller.abort(error);
      this.onError(
        new Error(`Cannot renew the lease of run "${runId}": another replica took it over`),
      );
    };
    this.active.set(runId, active);
    this.queue.started(runId, job.record.input);
    const execution = this.execute(active, job, claim);
    this.executions.set(runId, execution);
    void execution.finally(() => {
      if (this.executions.get(runId) === execution) this.executions.delete(runId);
    });
  }

  async execute(active: ActiveRun, job: Job, claim: boolean): Promise<void> {
    let outcome: RunRecord | Error;
    try {
      outcome = await executeManaged(this.deps, active, { job, claim });
    } catch (error) {
      outcome = error instanceof Error ? error : new Error(String(error));
      this.onError(outcome);
    }
    this.active.delete(active.runId);
    this.queue.ended(active.runId);
    this.disown(active.runId);
    if (!(outcome instanceof Error) && outcome.status === RunStatus.Waiting && active.lease) {
      // Parked: no slot and no lease; a wait resolved meanwhile queues it again at once.
      const requeued = await handOverParked(this.store, active.lease, outcome).catch((error) => {
        this.onError(error);
        return false;
      });
      if (requeued) this.onRequeued(active.runId);
    } else if (active.released && active.lease) {
      // Stopped by a shutdown without being cancelled: the next process resumes it at once.
      await this.store.releaseLease(active.runId, active.lease).catch(this.onError);
    }
    this.settle(active.runId, outcome);
    if (!(outcome instanceof Error) && isFinishedStatus(outcome.status)) {
      this.retention.finished(this.workflow);
    }
    this.pump();
  }

  /** Ends a waiting run (already out of the queue) as cancelled. */
  async cancelWaiting(job: Job, why: string): Promise<void> {
    const { runId } = job.record;
    job.lease ??= this.leases.get(runId);
    this.disown(runId);
    try {
      this.settle(runId, await cancelWaitingRun(this.deps, job, why));
      this.retention.finished(this.workflow);
    } catch (error) {
      const failure = new Error(`Cannot cancel waiting run "${runId}"`, { cause: error });
      this.settle(runId, failure);
      this.onError(failure);
    }
  }
}
