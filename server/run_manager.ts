/**
 * The run manager: the one object `dev` and `serve` (and their HTTP layer) drive. It makes runs
 * durable in a {@link RunStore}, applies the workflow's concurrency control, fires cron
 * triggers, resumes runs after a crash, prunes history and exposes metrics.
 *
 * @module
 */

import {
  type Clock,
  type CompiledWorkflow,
  createRedactor,
  createRunner,
  type ExecuteOptions,
  type NodeRunner,
  type RunRecord,
  RunStatus,
  systemClock,
  validateInput,
} from "../engine/mod.ts";
import type {
  GetLogsOptions,
  ListRunsOptions,
  RunPage,
  RunStore,
  StoredLogLine,
} from "../store/mod.ts";
import { CronScheduler } from "./cron_scheduler.ts";
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
import { RunHub, type RunListener, summaryOf } from "./_run_hub.ts";
import { isFinished } from "./_run_hooks.ts";
import { RunMetrics } from "./_run_metrics.ts";
import type { MetricsFormat } from "./_metrics.ts";
import { RunQueue, ScheduleAction, UNLIMITED_CONCURRENCY } from "./_run_queue.ts";
import { pause, startTimeout } from "./_timers.ts";
import { type FindVersion, planRetry, type RetryOptions, type RetryPlan } from "./_retry.ts";
import type { RunTracer } from "../tracing/mod.ts";

export type { RunEvent, RunListener } from "./_run_hub.ts";

/** Options of {@link RunManager.create}. */
export interface RunManagerOptions {
  /** The current workflow version (replaceable with `reload()`). */
  workflow: CompiledWorkflow;
  /** Where runs, nodes, logs, the node cache and cron ticks are kept. Not closed by the manager. */
  store: RunStore;
  /** Runs the nodes. @default createRunner() (then closed by `close()`) */
  runner?: NodeRunner;
  /** Secrets keyed by service, as `ctx.secrets`; every value is redacted from logs and errors. @default {} */
  secrets?: Record<string, unknown>;
  /** Merged over `workflow.config` (e.g. the values of /app/config). @default undefined */
  configOverlay?: Record<string, unknown>;
  /** Time source of leases, delays, cron and timeouts. @default systemClock */
  clock?: Clock;
  /** This replica's id in run leases; a stable id lets a restart resume its runs at once. @default crypto.randomUUID() */
  owner?: string;
  /** Lease length; leases are renewed every third of it. @default 30_000 */
  leaseMs?: number;
  /** The most recent missed cron tick within this window fires on start (see CronScheduler). @default 300_000 */
  cronCatchUpMs?: number;
  /** Receives background failures (store errors of timers, cron, subscribers). @default ignore */
  onError?: (error: unknown) => void;
  /**
   * Gives `ctx.k8s` to nodes that declare `capabilities.k8s` (see `ExecuteOptions.k8s`).
   * @default undefined (no node has `ctx.k8s`)
   */
  k8s?: ExecuteOptions["k8s"];
  /**
   * Finds an earlier code version by its hash, for retries of runs of that version (the code
   * snapshots of `dev`/`serve`). @default undefined (only versions loaded in this process)
   */
  findVersion?: FindVersion;
  /** Exports a trace per run (a span per node attempt). @default undefined (no traces) */
  tracer?: RunTracer;
}

/** Options of {@link RunManager.submit}. */
export interface SubmitOptions {
  /** Same key within 24 h returns the same run (it never runs twice). @default undefined */
  idempotencyKey?: string;
  /** What started the run: "manual", "cron", "queue", "webhook", "retry". @default "manual" */
  trigger?: string;
  /** A retry (see {@link RunManager.retry}): its run, `from` node and code version. */
  retry?: RetryPlan;
  /** An incoming W3C `traceparent`: the parent of the run's trace. @default undefined */
  traceparent?: string;
}

/** Options of {@link RunManager.runAndWait}. */
export interface RunAndWaitOptions extends SubmitOptions {
  /** Aborting it cancels the run (the promise then resolves with the cancelled record). @default undefined */
  signal?: AbortSignal;
}

interface Waiter {
  promise: Promise<RunRecord>;
  resolve: (record: RunRecord | Promise<RunRecord>) => void;
  reject: (error: unknown) => void;
}

/** How often `wait()` polls the store for a run executed by another replica. */
const POLL_MS = 1_000;

function waiter(): Waiter {
  let resolve!: Waiter["resolve"];
  let reject!: Waiter["reject"];
  const promise = new Promise<RunRecord>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Executes a workflow's runs durably. Every run is created in the store before `submit()`
 * returns; each run transition, node transition (progress included) and log line is written
 * to the store as it happens, then published to subscribers in order. Runs hold a lease
 * (`owner`, renewed every `leaseMs / 3`) so that only one replica executes a run.
 *
 * Concurrency (SPEC §2, prunner's semantics) comes from `workflow.concurrency`; a workflow
 * without it (hand-built, not compiled) gets 100 running and 1000 waiting. A run that waits is
 * started by this manager in arrival order; a `replace` strategy cancels the newest waiting run.
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
  readonly #store: RunStore;
  readonly #runner: NodeRunner;
  readonly #ownsRunner: boolean;
  readonly #secrets: Record<string, unknown>;
  readonly #clock: Clock;
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #cronCatchUpMs: number | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #hub: RunHub;
  readonly #metrics: RunMetrics;
  readonly #queue: RunQueue<Job>;
  readonly #active = new Map<string, ActiveRun>();
  /** Runs whose lease this manager holds: running, starting and waiting ones. */
  readonly #owned = new Set<string>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #closing = new AbortController();
  #workflow: CompiledWorkflow;
  #lock: Promise<unknown> = Promise.resolve();
  #draining = false;
  #closed = false;
  #scanning = false;
  #lastScan = 0;
  #cron: CronScheduler | undefined;
  #stopWake: (() => void) | undefined;
  readonly #heartbeat: Heartbeat;
  readonly #retention: RetentionPruner;
  readonly #deps: RunDeps;
  readonly #findVersion: FindVersion | undefined;

  private constructor(options: RunManagerOptions) {
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
    this.#workflow = workflow;
    this.#store = store;
    this.#ownsRunner = options.runner === undefined;
    this.#runner = options.runner ?? createRunner();
    this.#secrets = options.secrets ?? {};
    this.#clock = options.clock ?? systemClock;
    this.#owner = owner;
    this.#leaseMs = leaseMs;
    this.#cronCatchUpMs = options.cronCatchUpMs;
    this.#findVersion = options.findVersion;
    this.#onError = options.onError ?? (() => {});
    this.#hub = new RunHub(this.#onError);
    this.#queue = new RunQueue(workflow.concurrency);
    this.#metrics = new RunMetrics(() => ({
      workflow: this.#workflow.name,
      running: this.#active.size,
      queued: this.#queue.size,
    }));
    this.#metrics.seed(workflow.name);
    this.#retention = new RetentionPruner(store, this.#clock, this.#onError);
    this.#heartbeat = new Heartbeat(
      this.#clock,
      leaseMs / 3,
      () => this.#owned.size > 0 || this.#scanning,
      () => this.#beat(),
      this.#onError,
    );
    this.#deps = {
      store,
      hub: this.#hub,
      metrics: this.#metrics,
      runner: this.#runner,
      secrets: this.#secrets,
      redact: createRedactor(this.#secrets),
      config: options.configOverlay,
      clock: this.#clock,
      owner,
      leaseMs,
      k8s: options.k8s,
      tracer: options.tracer,
    };
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
    return this.#workflow;
  }

  /** This replica's lease owner id. */
  get owner(): string {
    return this.#owner;
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
    this.#checkAccepting();
    const retry = options.retry;
    const workflow = retry?.workflow ?? this.#workflow;
    validateInput(workflow, input);
    return await this.#exclusive(async () => {
      this.#checkAccepting();
      const action = this.#queue.decide(this.#active.size);
      if (action === ScheduleAction.Reject) throw this.#queueFull();
      const now = this.#clock.now();
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
      if (start) record.startedAt = iso(now);
      if (options.traceparent !== undefined) record.traceparent = options.traceparent;
      if (retry) {
        record.retryOf = retry.of.runId;
        if (retry.from !== undefined) record.retryFrom = retry.from;
      }
      const overlay = this.#deps.config;
      if (overlay && Object.keys(overlay).length > 0) {
        const redact = this.#deps.redact;
        record.config = JSON.parse(
          JSON.stringify(overlay),
          (_key, value) => typeof value === "string" ? redact(value) : value,
        );
      }
      const created = await this.#store.createRun(record, {
        idempotencyKey: options.idempotencyKey,
        owner: this.#owner,
        leaseMs: this.#leaseMs,
      });
      if (!created.created) return { runId: created.record.runId, created: false };
      const { runId } = record;
      this.#own(runId);
      const job: Job = { workflow, record: created.record };
      if (retry) job.retry = retry;
      if (start) {
        this.#launch(job, false);
      } else {
        this.#hub.publish(runId, { type: "run", record: summaryOf(created.record) });
        const entry = { id: runId, readyAt: now + this.#queue.settings.startDelayMs, value: job };
        if (action === ScheduleAction.Replace) {
          const replaced = this.#queue.replaceNewest(entry);
          await this.#cancelWaiting(replaced.value, `it was replaced by run "${runId}"`);
        } else {
          this.#queue.push(entry);
        }
        this.#pump();
      }
      return { runId, created: true };
    });
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
    const { runId } = await this.submit(input, submitOptions);
    const onAbort = () => void this.cancel(runId).catch(this.#onError);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.wait(runId);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
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
  async retry(
    runId: string,
    options: RetryOptions = {},
  ): Promise<{ runId: string; retryOf: string; codeHash?: string; warning?: string }> {
    const plan = await planRetry(
      this.#store,
      this.#workflow,
      this.versionsInUse(),
      this.#findVersion,
      runId,
      options,
    );
    const { runId: id } = await this.submit(plan.of.input, { trigger: "retry", retry: plan });
    const answer: { runId: string; retryOf: string; codeHash?: string; warning?: string } = {
      runId: id,
      retryOf: plan.of.runId,
    };
    if (plan.workflow.codeHash !== undefined) answer.codeHash = plan.workflow.codeHash;
    if (plan.warning !== undefined) answer.warning = plan.warning;
    return answer;
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
    const local = this.#waiters.get(runId);
    if (local) return await local.promise;
    for (;;) {
      const record = await this.#store.getRun(runId);
      if (!record) throw new RangeError(`Cannot wait for run "${runId}": no such run`);
      if (isFinished(record.status)) return record;
      const again = this.#waiters.get(runId);
      if (again) return await again.promise;
      if (this.#closed) {
        throw new DrainingError(`Cannot wait for run "${runId}": the run manager is closed`);
      }
      await pause(this.#clock, POLL_MS, this.#closing.signal);
    }
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
    const active = this.#active.get(runId);
    if (active) {
      active.controller.abort(new DOMException("The run was cancelled", "AbortError"));
      return await this.wait(runId).catch(() => this.#store.getRun(runId));
    }
    const entry = this.#queue.remove(runId);
    if (entry) {
      await this.#cancelWaiting(entry.value, "it was cancelled");
      this.#pump();
      return await this.#store.getRun(runId);
    }
    const record = await this.#store.getRun(runId);
    if (!record || isFinished(record.status)) return record;
    const now = this.#clock.now();
    await this.#store.updateRun(runId, { status: RunStatus.Cancelled, finishedAt: iso(now) });
    return await this.#store.getRun(runId);
  }

  /** The stored run record (kept current as the run executes), or undefined. */
  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#store.getRun(runId);
  }

  /**
   * Runs newest first; `workflow` defaults to the current workflow's name.
   * @throws {TypeError} for a malformed cursor
   * @throws {RangeError} for a limit outside 1..1000
   */
  listRuns(options: ListRunsOptions = {}): Promise<RunPage> {
    return this.#store.listRuns({ workflow: this.#workflow.name, ...options });
  }

  /** A run's stored log lines in sequence order; [] for an unknown run. */
  getLogs(runId: string, options?: GetLogsOptions): Promise<StoredLogLine[]> {
    return this.#store.getLogs(runId, options);
  }

  /**
   * Receives the events of one run, or of every run with "*", from now on, in order; each
   * event is published after it was persisted. Returns the unsubscribe function.
   */
  subscribe(runId: string | "*", listener: RunListener): () => void {
    return this.#hub.subscribe(runId, listener);
  }

  /**
   * New runs use `workflow`; runs already started or waiting keep the version they were
   * submitted with. Concurrency settings apply at once; cron triggers are rescheduled.
   * @throws {RangeError} when a cron trigger of `workflow` is invalid (nothing changes)
   */
  reload(workflow: CompiledWorkflow): void {
    if (this.#cron?.active) this.#cron.schedule(workflow);
    this.#workflow = workflow;
    this.#queue.settings = workflow.concurrency ?? UNLIMITED_CONCURRENCY;
    this.#metrics.seed(workflow.name);
    this.#pump();
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
    if (this.#draining || this.#closed) return { resumed: 0, requeued: 0 };
    this.#scanning = true;
    this.#lastScan = this.#clock.now();
    const counts = await this.#exclusive(() => this.#scan());
    this.#heartbeat.poke();
    return counts;
  }

  /** Starts the workflow's cron triggers in-process (idempotent). */
  startTriggers(): void {
    if (this.#draining || this.#closed) return;
    this.#cron ??= new CronScheduler({
      store: this.#store,
      clock: this.#clock,
      catchUpMs: this.#cronCatchUpMs,
      onError: this.#onError,
      submit: (input) => this.submit(input, { trigger: "cron" }),
    });
    this.#cron.schedule(this.#workflow);
  }

  /**
   * The workflow versions this manager may still execute: the current one and those of the
   * runs running or waiting here (a dev reload leaves them on the version they started with).
   */
  versionsInUse(): CompiledWorkflow[] {
    const versions = new Set([this.#workflow]);
    for (const active of this.#active.values()) versions.add(active.workflow);
    for (const job of this.#queue.values()) versions.add(job.workflow);
    return [...versions];
  }

  /** Runs waiting and running in this manager. */
  stats(): { queued: number; running: number } {
    return { queued: this.#queue.size, running: this.#active.size };
  }

  /**
   * The metrics exposition: Prometheus text 0.0.4 (`text/plain; version=0.0.4`), or with
   * "openmetrics" OpenMetrics 1.0.0. Includes prom-client's process metrics.
   */
  metrics(format: MetricsFormat = "prometheus"): Promise<string> {
    return this.#metrics.render(format);
  }

  /**
   * Graceful stop: new submits throw {@link DrainingError}, cron stops, nothing more starts;
   * running runs may finish for `graceMs` (on the manager's clock), then the rest are cancelled
   * and their state persisted. Waiting runs stay queued in the store (their leases are
   * released) so that the next process's `recover()` runs them.
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    this.#scanning = false;
    this.#cron?.stop();
    this.#stopWake?.();
    const running = () => [...this.#active.keys()].map((id) => this.wait(id).catch(() => {}));
    if (this.#active.size > 0 && graceMs > 0) {
      const grace = new AbortController();
      await Promise.race([Promise.all(running()), pause(this.#clock, graceMs, grace.signal)]);
      grace.abort();
    }
    for (const active of this.#active.values()) {
      active.controller.abort(new DOMException("The server is shutting down", "AbortError"));
    }
    await Promise.all(running());
    await this.#exclusive(() => this.#releaseWaiting());
    await this.#retention.settled();
  }

  /**
   * Stops everything: drains with no grace when not drained yet (running runs are cancelled),
   * stops cron and timers, and closes the default runner. Does not close the store or a runner
   * that was passed in. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.drain(0);
    this.#closed = true;
    this.#closing.abort();
    this.#heartbeat.stop();
    await this.#cron?.settled();
    if (this.#ownsRunner) await this.#runner.close();
  }

  // ---- internals -------------------------------------------------------------------------

  #checkAccepting(): void {
    if (this.#draining || this.#closed) {
      throw new DrainingError(
        `Cannot start a run of workflow "${this.#workflow.name}": the server is shutting down; retry on another replica or after the restart`,
      );
    }
  }

  #queueFull(): QueueFullError {
    const { maxRuns, queueLimit } = this.#queue.settings;
    return new QueueFullError(
      queueLimit <= 0
        ? `Cannot start a run of workflow "${this.#workflow.name}": ${maxRuns} runs are running and queueLimit is 0; retry later`
        : `Cannot queue a run of workflow "${this.#workflow.name}": ${this.#queue.size} runs are waiting (queueLimit ${queueLimit}); retry later`,
      { queueLimit },
    );
  }

  /** Runs `body` after every earlier exclusive section (submit, scan, drain). */
  #exclusive<T>(body: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(body);
    this.#lock = result.catch(() => {});
    return result;
  }

  #own(runId: string): void {
    this.#owned.add(runId);
    if (!this.#waiters.has(runId)) this.#waiters.set(runId, waiter());
    this.#heartbeat.poke();
  }

  /** Ends the local wait for a run; a run that is not over (taken by another replica) is polled. */
  #settle(runId: string, outcome: RunRecord | Error): void {
    const w = this.#waiters.get(runId);
    if (!w) return;
    this.#waiters.delete(runId);
    if (outcome instanceof Error) w.reject(outcome);
    else if (isFinished(outcome.status)) w.resolve(outcome);
    else w.resolve(this.wait(runId));
  }

  /** Starts every waiting run that may start, then arms the start-delay timer. */
  #pump(): void {
    if (this.#draining || this.#closed) return;
    for (;;) {
      const entry = this.#queue.takeReady(this.#clock.now(), this.#active.size);
      if (!entry) break;
      this.#launch(entry.value, true);
    }
    this.#stopWake?.();
    this.#stopWake = undefined;
    const at = this.#queue.nextReadyAt();
    if (at !== undefined && this.#active.size < this.#queue.settings.maxRuns) {
      this.#stopWake = startTimeout(this.#clock, at - this.#clock.now(), () => {
        this.#stopWake = undefined;
        this.#pump();
      });
    }
  }

  /** Takes a slot synchronously, then executes the run in the background. */
  #launch(job: Job, claim: boolean): void {
    const active = activeRun(job);
    this.#active.set(active.runId, active);
    void this.#execute(active, job, claim);
  }

  async #execute(active: ActiveRun, job: Job, claim: boolean): Promise<void> {
    let outcome: RunRecord | Error;
    try {
      outcome = await executeManaged(this.#deps, active, { job, claim });
    } catch (error) {
      outcome = error instanceof Error ? error : new Error(String(error));
      this.#onError(outcome);
    }
    this.#active.delete(active.runId);
    this.#owned.delete(active.runId);
    this.#settle(active.runId, outcome);
    if (!(outcome instanceof Error) && isFinished(outcome.status)) {
      this.#retention.finished(this.#workflow);
    }
    this.#pump();
  }

  /** Ends a waiting run (already out of the queue) as cancelled. */
  async #cancelWaiting(job: Job, why: string): Promise<void> {
    const { runId } = job.record;
    this.#owned.delete(runId);
    try {
      this.#settle(runId, await cancelWaitingRun(this.#deps, job, why));
      this.#retention.finished(this.#workflow);
    } catch (error) {
      const failure = new Error(`Cannot cancel waiting run "${runId}"`, { cause: error });
      this.#settle(runId, failure);
      this.#onError(failure);
    }
  }

  /** Drain: waiting runs leave this manager but stay queued in the store, lease released. */
  async #releaseWaiting(): Promise<void> {
    for (const entry of this.#queue.clear()) {
      this.#owned.delete(entry.id);
      this.#settle(
        entry.id,
        new DrainingError(
          `Cannot wait for run "${entry.id}": the server is shutting down; the run stays queued and starts after the restart`,
        ),
      );
      // A 1 ms lease lets the next process (any owner id) claim the run at once.
      await this.#store.claimRun(entry.id, this.#owner, 1).catch(this.#onError);
    }
  }

  async #scan(): Promise<{ resumed: number; requeued: number }> {
    let resumed = 0;
    let requeued = 0;
    const workflow = this.#workflow;
    const runs = await this.#store.listUnfinished({ workflow: workflow.name });
    for (const run of runs) {
      if (this.#draining || this.#closed) break;
      if (this.#active.has(run.runId) || this.#queue.has(run.runId)) continue;
      if (!(await this.#store.claimRun(run.runId, this.#owner, this.#leaseMs))) continue;
      this.#own(run.runId);
      if (run.status === RunStatus.Running) {
        this.#launch({ workflow, record: run, resume: run }, false);
        resumed++;
      } else {
        const job: Job = { workflow, record: run };
        // A queued retry still reuses the outputs of the run it retries.
        const of = run.retryOf === undefined ? undefined : await this.#store.getRun(run.retryOf);
        if (of) job.retry = { of, workflow, ...(run.retryFrom ? { from: run.retryFrom } : {}) };
        this.#queue.push({ id: run.runId, readyAt: this.#clock.now(), value: job });
        this.#hub.publish(run.runId, { type: "run", record: summaryOf(run) });
        requeued++;
      }
    }
    this.#pump();
    return { resumed, requeued };
  }

  /** Every leaseMs / 3: renew the leases of owned runs; after `recover()`, rescan every leaseMs. */
  async #beat(): Promise<void> {
    for (const runId of [...this.#owned]) {
      if (await this.#store.renewLease(runId, this.#owner, this.#leaseMs)) continue;
      // A run that just ended here is no longer renewable: nothing was lost.
      if (this.#owned.has(runId) && !this.#active.get(runId)?.ended) await this.#leaseLost(runId);
    }
    if (this.#scanning && this.#clock.now() - this.#lastScan >= this.#leaseMs) {
      this.#lastScan = this.#clock.now();
      await this.#exclusive(() => this.#scan());
    }
  }

  async #leaseLost(runId: string): Promise<void> {
    const record = await this.#store.getRun(runId);
    const active = this.#active.get(runId);
    if (active?.ended || !this.#owned.has(runId)) return;
    // Cancelled in the store (by another replica's cancel()): abort here; this executor then
    // records the cancellation of its nodes. Otherwise another replica took the run over
    // (this one could not renew in time): stop without writing anything more.
    const cancelled = record?.status === RunStatus.Cancelled;
    if (active) {
      if (!cancelled) active.detached = true;
      active.controller.abort(
        new DOMException(
          cancelled ? "The run was cancelled" : "The run was taken over",
          "AbortError",
        ),
      );
    }
    if (this.#queue.remove(runId)) {
      this.#owned.delete(runId);
      if (record && isFinished(record.status)) this.#hub.publish(runId, { type: "end", record });
      this.#settle(runId, record ?? new Error(`Cannot find run "${runId}"`));
      this.#pump();
    }
    if (!cancelled) {
      this.#onError(
        new Error(`Cannot renew the lease of run "${runId}": another replica took it over`),
      );
    }
  }
}
