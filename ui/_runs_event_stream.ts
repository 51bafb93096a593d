/**
 * GET api/events: one server-sent event per run-level change of any run (`event: run`, data the
 * run summary without node records), for the live runs list. Node and log events are left out:
 * the run page has its own stream (GET /runs/:id/logs).
 *
 * @module
 */

import type { RunRecord } from "../engine/mod.ts";

/** The run manager events the stream reads (the others are ignored). */
export type DashboardRunEvent =
  | { type: "run"; record: Omit<RunRecord, "nodes"> }
  | { type: "end"; record: RunRecord }
  | { type: "node" | "log" };

/** Subscribes to every run's events; returns the unsubscribe function. */
export type SubscribeAll = (
  runId: "*",
  listener: (event: DashboardRunEvent) => void,
) => () => void;

const encoder = new TextEncoder();

/**
 * The stream: `retry: 1000` once subscribed, then `event: run` frames, and `: keep-alive`
 * comments every `heartbeatMs` (0: none). Ends when `signal` aborts or the client goes away.
 */
export function runsEventStream(
  subscribe: SubscribeAll,
  options: { heartbeatMs: number; signal?: AbortSignal },
): ReadableStream<Uint8Array> {
  let cleanup = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      const unsubscribe = subscribe("*", (event) => {
        if (event.type !== "run" && event.type !== "end") return;
        const { nodes: _nodes, ...summary } = event.record as RunRecord;
        write(`event: run\ndata: ${JSON.stringify(summary)}\n\n`);
      });
      const heartbeat = options.heartbeatMs > 0
        ? setInterval(() => write(": keep-alive\n\n"), options.heartbeatMs)
        : undefined;
      cleanup = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        if (heartbeat !== undefined) clearInterval(heartbeat);
        options.signal?.removeEventListener("abort", end);
      };
      const end = () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // Already closed by the client.
        }
      };
      if (options.signal?.aborted) return end();
      options.signal?.addEventListener("abort", end, { once: true });
      write("retry: 1000\n\n");
    },
    cancel() {
      cleanup();
    },
  });
}
