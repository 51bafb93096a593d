/**
 * The run manager: the one object `dev` and `serve` (and their HTTP layer) drive. It makes runs
 * durable in a {@link RunStore}, applies the workflow's concurrency control, fires cron
 * triggers, resumes runs after a crash, prunes history and exposes metrics.
 *
 * @module
 */

import {
  type CompiledWorkflow,
  isFinishedStatus,
  iso,
  type RunRecord,
  RunStatus,
  validateInput,
} from "../engine/mod.ts";
import type { GetLogsOptions, ListRunsOptions, RunPage, StoredLogLine } from "../store/mod.ts";
import { CronScheduler } from "./cron_scheduler.ts";
import { beatLeases, releaseWaiting } from "./_leases.ts";
import type { Job } from "./_managed_run.ts";
import { ManagerCore } from "./_manager_core.ts";
import { scanUnfinished } from "./_recovery.ts";
import { type RunListener, summaryOf } from "./_run_hub.ts";
import type {
  RunAndWaitOptions,
  RunManagerOptions,
  SubmitOptions,
} from "./_run_manager_options.ts";
import { ScheduleAction, UNLIMITED_CONCURRENCY } from "./_run_queue.ts";
import { pause } from "./_timers.ts";
import { cancelParkedNodes, endedParked, parkedRunTimers, signalRun } from "./_parked_runs.ts";
import type { WaitTimers } from "./_durable_runs.ts";
import type { MetricsFormat } from "./_metrics_format.ts";
import { type FindVersion, planRetry, type RetryOptions, type RetryStarted } from "./_retry.ts";

export type { RunEvent, RunListener } from "./_run_hub.ts";

export type {
  RunAndWaitOptions,
  RunManagerOptions,
  SubmitOptions,
} from "./_run_manager_options.ts";

/**
 * Executes a workflow's runs durably. Every run is created in the store before `submit()`
 * returns; each run transition, node transition (progress included) and log line is written
 * to the store as it happens, then published to subscribers in order. Runs hold a lease
 * (`owner`, renewed every `leaseMs / 3`) so that only one replica executes a run.
 *
 * Concurrency (SPEC §2, prunner's semantics) comes from `workflow.concurrency`; a workflow
 * without it (hand-built, not compiled) gets 100 running and 1000 waiting. A run that waits is
 * started by this manager in arrival order; a `replace` strategy cancels the newest waiting run.
 * With `concurrency.key` (SPEC §10) the limits apply per key value of the run input, with
 * `maxRunsTotal` over all keys and free slots going to the waiting keys in turn (`_keyed_queue.ts`).
 *
 * @example
 * ```ts
 * import { RunManager } from "./run_manager.ts";
 * import { loadWorkflow } from "../engine/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const store = await openStore(undefined, { dataDir: ".pipedreamer" });
 * const manager = await RunManager.create({ workflow: await loadWorkflow("."), store });
 * await manager.recover();
 * manager.startTriggers();
 * const record = await manager.runAndWait({ user: "ada" });
 * console.log(record.status);
 * await manager.drain(30_000);
 * await manager.close();
 * await store.close();
 * ```
 */
export class RunManager {
  readonly #core: ManagerCore;
  readonly #findVersion: FindVersion | undefined;
  readonly #timers: WaitTimers;

  private constructor(options: RunManagerOptions) {
    this.#core = new ManagerCore(options, () => beatLeases(this.#core));
    this.#findVersion = options.findVersion;
    this.#timers = parkedRunTimers(this.#core, options.timerPollMs);
  }

  /**
   * Creates a manager. It opens nothing: the store and runner are the caller's (except the
   * default runner). Call `recover()` to pick up runs of an earlier process.
   *
   * @throws {TypeError} when the workflow, store or owner is missing or malformed
   * @throws {RangeError} when leaseMs is not a positive number
   * @example
   * ```ts
   * import { RunManager } from "./run_manager.ts";
   * import type { CompiledWorkflow } from "../engine/mod.ts";
   * import type { RunStore } from "../store/mod.ts";
   * declare const workflow: CompiledWorkflow;
   * declare const store: RunStore;
   * const manager = await RunManager.create({ workflow, store, owner: "replica-1" });
   * ```
   */
  static create(options: RunManagerOptions): Promise<RunManager> {
    try {
      return Promise.resolve(new RunManager(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The current workflow: new runs use it. */
  get workflow(): CompiledWorkflow {
    return this.#core.workflow;
  }

  /** This replica's lease owner id. */
  get owner(): string {
    return this.#core.owner;
  }

  /**
   * Validates the input, applies concurrency control and creates the run in the store (queued,
   * or running when it starts at once) before resolving. A repeated idempotency key returns the
   * earlier run with `created: false` (while the wait list is full it is rejected like a new
   * run: retrying later returns the earlier run).
   *
   * @throws {InputValidationError} when the input does not match `inputSchema`
   * @throws {QueueFullError} when the wait list is full (HTTP 429)
   * @throws {DrainingError} while draining or after close (HTTP 503)
   * @example
   * ```ts
   * import type { RunManager } from "./run_manager.ts";
   * declare const manager: RunManager;
   * const { runId } = await manager.submit({ n: 1 }, { idempotencyKey: "order-42" });
   * ```
   */
  async submit(
    input: unknown,
    options: SubmitOptions = {},
  ): Promise<{ runId: string; created: boolean }> {
    this.#core.checkAccepting();
    const retry = options.retry;
    const workflow = retry?.workflow ?? this.#core.workflow;
    validateInput(workflow, input);
    const { durable, ...started } = await this.#core.exclusive(async () => {
      this.#core.checkAccepting();
      const key = this.#core.queue.keyOf(input);
      const action = this.#core.queue.decide(key);
      if (action === ScheduleAction.Reject) throw this.#core.queueFull(key);
      const now = this.#core.clock.now();
      const start = action === ScheduleAction.Start;
      const record: RunRecord = {
        runId: crypto.randomUUID(),
        workflow: workflow.name,
        version: workflow.version,
        status: start ? RunStatus.Running : RunStatus.Queued,
        input,
        nodes: {},
        trigger: options.trigger ?? "manual",
        codeHash: workflow.codeHash,
      };
      if (options.traceparent !== undefined) record.traceparent = options.traceparent;
      if (retry) {
        record.retryOf = retry.of.runId;
        if (retry.from !== undefined) record.retryFrom = retry.from;
      }
      const overlay = this.#core.deps.config;
      if (overlay && Object.keys(overlay).length > 0) {
        const redact = this.#core.deps.redact;
        record.config = JSON.parse(
          JSON.stringify(overlay),
          (_key, value) => typeof value === "string" ? redact(value) : value,
        );
      }
      // Hold the slot while the store writes: a start-delay timer may pump meanwhile.
      if (start) this.#core.queue.started(record.runId, input), record.startedAt = iso(now);
      const created = await this.#core.store.createRun(record, {
        idempotencyKey: options.idempotencyKey,
        owner: this.#core.owner,
        leaseMs: this.#core.leaseMs,
        beforeDurable: true, // the lock is held until the commit, acknowledged below
      }).catch((error) => {
        this.#core.queue.ended(record.runId);
        this.#core.pump();
        throw error;
      });
      // launch() below takes the held slot for good, synchronously.
      this.#core.queue.ended(record.runId);
      if (!created.created) {
        this.#core.pump();
        return { runId: created.record.runId, created: false, durable: created.durable };
      }
      const { runId } = record;
      this.#core.own(runId, created.lease);
      const job: Job = { workflow, record: created.record, lease: created.lease };
      if (retry) job.retry = retry;
      if (start) {
        this.#core.launch(job, false);
      } else {
        if (this.#core.hub.listening(runId)) {
          this.#core.hub.publish(runId, { type: "run", record: summaryOf(created.record) });
        }
        const entry = {
          id: runId,
          readyAt: now + this.#core.queue.settings.startDelayMs,
          value: job,
        };
        // The waiting run to replace may have started while the store wrote.
        if (action === ScheduleAction.Replace && this.#core.queue.waiting(key) > 0) {
          const replaced = this.#core.queue.replaceNewest(entry);
          await this.#core.cancelWaiting(replaced.value, `it was replaced by run "${runId}"`);
        } else {
          this.#core.queue.push(entry);
        }
        this.#core.pump();
      }
      return { runId, created: true, durable: created.durable };
    });
    if (options.acknowledgedAtEnd !== true) await durable?.();
    return started;
  }

  /**
   * Starts a retry of a finished run (SPEC §11): a new run with `retryOf`, the same input and
   * the same code version when it is still available (else the current one, with `warning`
   * saying so, also logged in the new run). Nodes that succeeded in the original are not run
   * again (their outputs are reused), except `from` and its descendants.
   *
   * @throws {RetryError} for an unknown run, a run that has not ended, a succeeded run without
   *   `from`, or an unknown `from` node
   * @throws what `submit()` throws
   */
  async retry(runId: string, options: RetryOptions = {}): Promise<RetryStarted> {
    const plan = await planRetry(
      this.#core.store,
      this.#core.workflow,
      this.versionsInUse(),
      this.#findVersion,
      runId,
      options,
    );
    const { runId: id } = await this.submit(plan.of.input, { trigger: "retry", retry: plan });
    const answer: RetryStarted = { runId: id, retryOf: plan.of.runId };
    if (plan.workflow.codeHash !== undefined) answer.codeHash = plan.workflow.codeHash;
    if (plan.warning !== undefined) answer.warning = plan.warning;
    return answer;
  }

  /**
   * `submit()` and wait for the run to end; resolves with the final record (also when the run
   * failed or was cancelled).
   *
   * @throws what `submit()` and `wait()` throw
   * @example
   * ```ts
   * import type { RunManager } from "./run_manager.ts";
   * declare const manager: RunManager;
   * const record = await manager.runAndWait({ n: 1 }, { signal: AbortSignal.timeout(60_000) });
   * ```
   */
  async runAndWait(input: unknown, options: RunAndWaitOptions = {}): Promise<RunRecord> {
    const { signal, ...submitOptions } = options;
    signal?.throwIfAborted();
    const { runId } = await this.submit(input, { ...submitOptions, acknowledgedAtEnd: true });
    const onAbort = () => void this.cancel(runId).catch(this.#core.onError);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.wait(runId);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Resolves with the final record when the run ends (at once when it already ended). A run
   * executed by another replica is polled in the store every second.
   *
   * @throws {RangeError} for an unknown run id
   * @throws {DrainingError} when the manager drains while the run is still waiting (it stays
   *   queued in the store) or closes while polling
   * @example
   * ```ts
   * import type { RunManager } from "./run_manager.ts";
   * declare const manager: RunManager;
   * const record = await manager.wait("4f6c…");
   * ```
   */
  async wait(runId: string): Promise<RunRecord> {
    return await this.#core.wait(runId);
  }

  /**
   * Cancels a run: a running one is aborted (its running nodes end cancelled) and resolves with
   * the final record; a waiting one leaves the queue and ends cancelled without starting. A
   * run executed by another replica is marked cancelled in the store; that replica aborts it
   * at its next lease renewal. A finished run is returned unchanged.
   *
   * @returns the record, or undefined for an unknown run id
   * @example
   * ```ts
   * import type { RunManager } from "./run_manager.ts";
   * declare const manager: RunManager;
   * const record = await manager.cancel("4f6c…");
   * ```
   */
  async cancel(runId: string): Promise<RunRecord | undefined> {
    // A run that was parking ends its execution `waiting` (or queued again, when a wait
    // resolved meanwhile, and maybe already woken here): it is cancelled as parked below.
    for (let active = this.#core.active.get(runId); active; active = this.#core.active.get(runId)) {
      active.controller.abort(new DOMException("The run was cancelled", "AbortError"));
      if (!(await endedParked(this.#core, runId))) {
        return await this.wait(runId).catch(() => this.#core.store.getRun(runId));
      }
    }
    const entry = this.#core.queue.remove(runId);
    if (entry) {
      await this.#core.cancelWaiting(entry.value, "it was cancelled");
      this.#core.pump();
      return await this.#core.store.getRun(runId);
    }
    const record = await this.#core.store.getRun(runId);
    if (!record || isFinishedStatus(record.status)) return record;
    const now = this.#core.clock.now();
    await this.#core.store.updateRun(runId, { status: RunStatus.Cancelled, finishedAt: iso(now) });
    await cancelParkedNodes(this.#core.store, record, now);
    return await this.#core.store.getRun(runId);
  }

  /**
   * Sends an event to a waiting run (SPEC §10): its payload becomes the wait node's output and
   * the run resumes. @throws {EventRejectedError} for an unknown run or one not waiting for it
   */
  signal(runId: string, event: string, payload: unknown): Promise<RunRecord> {
    return signalRun(this.#core, runId, event, payload);
  }

  /** A map node's element records in index order, one page at a time (SPEC §9). */
  readonly listMapItems: ManagerCore["store"]["listMapItems"] = (...a) =>
    this.#core.store.listMapItems(...a);

  /** The stored run record (kept current as the run executes), or undefined. */
  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#core.store.getRun(runId);
  }

  /**
   * Runs newest first; `workflow` defaults to the current workflow's name.
   * @throws {TypeError} for a malformed cursor @throws {RangeError} for a limit outside 1..1000
   */
  listRuns(options: ListRunsOptions = {}): Promise<RunPage> {
    return this.#core.store.listRuns({ workflow: this.#core.workflow.name, ...options });
  }

  /** A run's stored log lines in sequence order; [] for an unknown run. */
  getLogs(runId: string, options?: GetLogsOptions): Promise<StoredLogLine[]> {
    return this.#core.store.getLogs(runId, options);
  }

  /**
   * Receives the events of one run, or of every run with "*", from now on, in order; each
   * event is published after it was persisted. Returns the unsubscribe function.
   */
  subscribe(runId: string | "*", listener: RunListener): () => void {
    return this.#core.hub.subscribe(runId, listener);
  }

  /**
   * New runs use `workflow`; runs already started or waiting keep the version they were
   * submitted with. Concurrency settings apply at once; cron triggers are rescheduled.
   * @throws {RangeError} when a cron trigger of `workflow` is invalid (nothing changes)
   */
  reload(workflow: CompiledWorkflow): void {
    if (this.#core.cron?.active) this.#core.cron.schedule(workflow);
    this.#core.workflow = workflow;
    this.#core.queue.settings = workflow.concurrency ?? UNLIMITED_CONCURRENCY;
    this.#core.metrics.seed(workflow.name);
    this.#core.pump();
  }

  /**
   * Picks up the unfinished runs of this workflow left by a process that died (or a replica
   * whose lease expired): each is claimed (lease) first; running runs resume from their stored
   * record (succeeded nodes are not executed again), queued runs rejoin the wait list in their
   * original order. Resumed runs execute the current workflow; when its code hash differs from
   * the run's, a warning is logged on the run. Afterwards the store is scanned again every
   * `leaseMs` for runs whose lease expired.
   *
   * @returns how many runs were resumed and requeued now
   * @example
   * ```ts
   * import type { RunManager } from "./run_manager.ts";
   * declare const manager: RunManager;
   * const { resumed, requeued } = await manager.recover();
   * ```
   */
  async recover(): Promise<{ resumed: number; requeued: number }> {
    if (this.#core.draining || this.#core.closed) return { resumed: 0, requeued: 0 };
    this.#core.scanning = true;
    this.#core.lastScan = this.#core.clock.now();
    // The one process on a SQLite store takes every unfinished run at once (its previous
    // owner is dead); elsewhere only runs whose lease lapsed.
    const force = this.#core.exclusiveStore;
    const counts = await this.#core.exclusive(() => scanUnfinished(this.#core, { force }));
    this.#core.heartbeat.poke();
    this.#timers.start();
    return counts;
  }

  /**
   * Unfinished runs with this `trigger` that this manager took over from the store (resumed
   * after a restart, or from a dead replica) rather than got through `submit()`: a queue
   * trigger counts them against its `maxConcurrency` (triggers/_adopted.ts).
   */
  adoptedRuns(trigger: string): string[] {
    return [...this.#core.adopted].filter(([, t]) => t === trigger).map(([runId]) => runId);
  }

  /** Starts the workflow's cron triggers in-process (idempotent). */
  startTriggers(): void {
    if (this.#core.draining || this.#core.closed) return;
    this.#core.cron ??= new CronScheduler({
      store: this.#core.store,
      clock: this.#core.clock,
      catchUpMs: this.#core.cronCatchUpMs,
      onError: this.#core.onError,
      submit: (input) => this.submit(input, { trigger: "cron" }),
    });
    this.#core.cron.schedule(this.#core.workflow);
  }

  /**
   * The workflow versions this manager may still execute: the current one and those of the
   * runs running or waiting here (a dev reload leaves them on the version they started with).
   */
  versionsInUse(): CompiledWorkflow[] {
    const versions = new Set([this.#core.workflow]);
    for (const active of this.#core.active.values()) versions.add(active.workflow);
    for (const job of this.#core.queue.values()) versions.add(job.workflow);
    return [...versions];
  }

  /** Runs waiting and running in this manager. */
  stats(): { queued: number; running: number } {
    return { queued: this.#core.queue.size, running: this.#core.active.size };
  }

  /** Prometheus text exposition (content type `text/plain; version=0.0.4`). */
  metrics(format: MetricsFormat = "prometheus"): Promise<string> {
    return this.#core.metrics.render(format);
  }

  /**
   * Graceful stop: new submits throw {@link DrainingError}, cron stops, nothing more starts;
   * running runs may finish for `graceMs` (on the manager's clock), then the rest stop here
   * without being cancelled: they stay `running` in the store with their persisted state and
   * their leases are released, so the next process's `recover()` (or another replica) resumes
   * them. Waiting runs stay queued in the store (their leases released too).
   */
  async drain(graceMs: number): Promise<void> {
    this.#core.draining = true;
    this.#core.scanning = false;
    this.#core.cron?.stop();
    this.#timers.stop();
    this.#core.stopWake?.();
    // Executions, not runs: a run that parks (`waiting`) ends its execution without finishing.
    const running = () => [...this.#core.executions.values()];
    if (this.#core.active.size > 0 && graceMs > 0) {
      const grace = new AbortController();
      await Promise.race([Promise.all(running()), pause(this.#core.clock, graceMs, grace.signal)]);
      grace.abort();
    }
    // Past the grace: stop the rest without cancelling them (only an explicit cancel does).
    // Nothing more is written; their leases are released so that the next process, or
    // another replica, resumes them from their stored state at once.
    for (const active of this.#core.active.values()) {
      active.released = true;
      active.detached = true;
      active.controller.abort(
        new DOMException("The server is shutting down; the run resumes elsewhere", "AbortError"),
      );
    }
    await Promise.all(this.#core.executions.values());
    await this.#core.exclusive(() => releaseWaiting(this.#core));
    await this.#core.retention.settled();
  }

  /**
   * Stops everything: drains with no grace when not drained yet (running runs are released),
   * stops cron and timers, and closes the default runner. Does not close the store or a runner
   * that was passed in. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#core.closed) return;
    await this.drain(0);
    this.#core.closed = true;
    this.#core.closing.abort();
    this.#core.heartbeat.stop();
    this.#core.metrics.stop();
    await this.#core.cron?.settled();
    if (this.#core.ownsRunner) await this.#core.runner.close();
  }
}
