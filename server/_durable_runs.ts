/**
 * Parked runs in dev/serve (SPEC §10): the timers of sleeps and wait timeouts (stored, polled,
 * fired by exactly one replica through the store's compare-and-set), events sent to waiting
 * runs, and the hand-over of a run that just parked.
 *
 * @module
 */

import { type Clock, type RunRecord, RunStatus, type WaitRecord } from "../engine/mod.ts";
import type { Lease, RunStore } from "../store/mod.ts";
import { pause } from "./_timers.ts";

/** Why an event cannot be delivered (HTTP 404 / 409). */
export class EventRejectedError extends Error {
  override name = "EventRejectedError";
  constructor(message: string, readonly reason: "unknown-run" | "not-waiting") {
    super(message);
  }
}

/** How often the stored timers are polled. @default 1000 */
export const TIMER_POLL_MS = 1_000;

/**
 * Polls the store for due waits and resolves each with compare-and-set; `onFired` is called
 * for the waits this replica won (then its run is queued again in the store).
 */
export class WaitTimers {
  #controller: AbortController | undefined;

  constructor(
    private readonly options: {
      store: RunStore;
      clock: Clock;
      pollMs: number;
      onFired: (wait: WaitRecord) => Promise<void>;
      onError: (error: unknown) => void;
    },
  ) {}

  /** Starts polling (idempotent). */
  start(): void {
    if (this.#controller) return;
    const controller = new AbortController();
    this.#controller = controller;
    void this.#loop(controller.signal);
  }

  /** Stops polling. */
  stop(): void {
    this.#controller?.abort();
  }

  /** Resolves every wait due now; returns how many this replica fired. */
  async tick(): Promise<number> {
    const { store, clock, onFired } = this.options;
    let fired = 0;
    for (const wait of await store.listDueWaits(clock.now())) {
      if (await store.resolveWait(wait.runId, wait.nodeId, { kind: "due" })) {
        fired++;
        await onFired(wait);
      }
    }
    return fired;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const { clock, pollMs, onError } = this.options;
    while (!signal.aborted) {
      await this.tick().catch(onError);
      await pause(clock, pollMs, signal);
    }
  }
}

/**
 * Delivers `event` to the run's wait node that waits for it: its payload becomes the node's
 * output. Exactly one of several concurrent deliveries (and the timeout) wins.
 *
 * @returns the node that received it
 * @throws {EventRejectedError} for an unknown run ("unknown-run") or a run that is not waiting
 *   for that event ("not-waiting", naming what it waits for)
 */
export async function deliverEvent(
  store: RunStore,
  runId: string,
  event: string,
  payload: unknown,
): Promise<string> {
  const record = await store.getRun(runId);
  if (!record) {
    throw new EventRejectedError(`Cannot find run "${runId.slice(0, 200)}"`, "unknown-run");
  }
  const waits = (await store.listWaits(runId)).filter((w) =>
    !w.resolution && w.event !== undefined &&
    (record.nodes[w.nodeId]?.status === "waiting" || record.nodes[w.nodeId]?.status === "running")
  );
  const target = waits.find((w) => w.event === event);
  const finished = record.status === RunStatus.Succeeded || record.status === RunStatus.Failed ||
    record.status === RunStatus.Cancelled;
  if (!target || finished) {
    const others = [...new Set(waits.map((w) => `"${w.event}"`))];
    throw new EventRejectedError(
      `Cannot send event "${event.slice(0, 200)}" to run "${runId}": ` +
        (finished
          ? `the run is ${record.status}`
          : others.length > 0
          ? `it waits for ${others.join(", ")}`
          : `it is ${record.status} and waits for no event`),
      "not-waiting",
    );
  }
  if (!(await store.resolveWait(runId, target.nodeId, { kind: "event", event, payload }))) {
    throw new EventRejectedError(
      `Cannot send event "${event}" to run "${runId}": its wait was resolved meanwhile`,
      "not-waiting",
    );
  }
  return target.nodeId;
}

/**
 * A run just parked here under `lease`: queues it again when one of its waits was resolved
 * while it was still running (the resolver then found it not `waiting` yet), then gives up the
 * lease so that any replica may claim it.
 *
 * @returns true when the run is queued again and should be resumed
 * @throws {LeaseLostError} when another replica took the run over meanwhile
 */
export async function handOverParked(
  store: RunStore,
  lease: Lease,
  record: RunRecord,
): Promise<boolean> {
  const { runId } = record;
  let requeued = false;
  const waits = await store.listWaits(runId);
  const resolved = waits.some((w) =>
    w.resolution !== undefined && record.nodes[w.nodeId]?.status === "waiting"
  );
  if (resolved) {
    const current = await store.getRun(runId);
    if (current?.status === RunStatus.Waiting) {
      await store.updateRun(runId, { status: RunStatus.Queued }, lease);
      requeued = true;
    } else {
      requeued = current?.status === RunStatus.Queued;
    }
  }
  await store.releaseLease(runId, lease);
  return requeued;
}
