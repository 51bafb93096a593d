/**
 * Parked runs in dev/serve (SPEC §10): the timers of sleeps and wait timeouts (stored, polled,
 * fired by exactly one replica through the store's compare-and-set), events sent to waiting
 * runs, and the hand-over of a run that just parked.
 *
 * @module
 */

import {
  type Clock,
  type NodeRecord,
  NodeStatus,
  type RunRecord,
  RunStatus,
  type WaitRecord,
} from "../engine/mod.ts";
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
      /** After each poll of the timers (e.g. waking runs another process queued again). */
      afterTick?: () => Promise<void>;
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
      await this.options.afterTick?.().catch(onError);
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
  await requeueAncestors(store, runId);
  return target.nodeId;
}

/** True when a child run that a node of `record` waits on is no longer parked. */
async function childWoke(store: RunStore, record: RunRecord): Promise<boolean> {
  for (const [nodeId, node] of Object.entries(record.nodes)) {
    if (node.status !== "waiting") continue;
    for (const child of await parkedChildren(store, record.runId, nodeId, node)) {
      if ((await store.getRun(child))?.status !== RunStatus.Waiting) return true;
    }
  }
  return false;
}

/**
 * The child runs a waiting node waits on: its child run (`waitingFor.childRunId`), or those of
 * its map elements that parked (`waitingFor.children`); [] for a sleep or wait node.
 */
export async function parkedChildren(
  store: RunStore,
  runId: string,
  nodeId: string,
  node: NodeRecord,
): Promise<string[]> {
  if (node.waitingFor?.childRunId !== undefined) return [node.waitingFor.childRunId];
  if (node.waitingFor?.children === undefined) return [];
  const children: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listMapItems(runId, nodeId, {
      status: [NodeStatus.Waiting],
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const item of page.items) if (item.childRunId) children.push(item.childRunId);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return children;
}

/**
 * A child run woke (a wait of it resolved, so it is queued again): its parked parent, and
 * theirs, are queued again too, since a child run is resumed by its parent's node. Idempotent.
 *
 * @returns the root run (the one to resume), or `runId` itself when it has no parent
 */
export async function requeueAncestors(store: RunStore, runId: string): Promise<string> {
  let id = runId;
  // Bounded: sub-workflow cycles are rejected by validate, a stored chain cannot loop forever.
  for (let depth = 0; depth < 100; depth++) {
    const run = await store.getRun(id);
    if (!run?.parentRunId || run.status === RunStatus.Waiting) return id;
    await store.requeueParked(run.parentRunId);
    id = run.parentRunId;
  }
  return id;
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
  const resolved =
    waits.some((w) => w.resolution !== undefined && record.nodes[w.nodeId]?.status === "waiting") ||
    await childWoke(store, record);
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
