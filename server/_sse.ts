/**
 * Server-sent events of one run: its stored log lines, then live ones as they happen, node and
 * run changes, and a final `end` event carrying the finished record.
 *
 * Framing: `event: log` has `id: <seq>` (a reconnecting client sends `Last-Event-ID` and gets
 * only later lines); `event: node`, `event: run` and `event: end` carry JSON data and no id.
 *
 * @module
 */

import { isFinishedStatus, type RunRecord } from "../engine/mod.ts";
import type { StoredLogLine } from "../store/mod.ts";
import type { RunApi, RunEvent } from "./_run_api.ts";

/** Options of {@link runEventStream}. */
export interface RunEventStreamOptions {
  /** Only log lines after this sequence number. @default 0 */
  afterSeq?: number;
  /** Only log lines (and node events) of this node. @default undefined (all) */
  node?: string;
  /** Interval of `: keep-alive` comments; 0 disables them. @default 15_000 */
  heartbeatMs?: number;
  /** Ends the stream (server shutdown). @default undefined */
  signal?: AbortSignal;
}

const encoder = new TextEncoder();

/** One SSE frame. */
export function sseFrame(event: string, data: unknown, id?: number): string {
  const idLine = id === undefined ? "" : `id: ${id}\n`;
  return `${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The event stream of `runId` (which must exist). Subscribes before reading the store, so no
 * line is lost between the two; lines seen twice are dropped by sequence number.
 */
export function runEventStream(
  manager: RunApi,
  runId: string,
  options: RunEventStreamOptions = {},
): ReadableStream<Uint8Array> {
  let lastSeq = options.afterSeq ?? 0;
  let live = false;
  let closed = false;
  let buffered: RunEvent[] = [];
  let unsubscribe = () => {};
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (heartbeat !== undefined) clearInterval(heartbeat);
    options.signal?.removeEventListener("abort", close);
    try {
      controller.close();
    } catch {
      // Already closed or errored by a client that went away.
    }
  };
  const write = (text: string) => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      close();
    }
  };
  const writeLog = (line: StoredLogLine) => {
    if (line.seq <= lastSeq) return;
    lastSeq = line.seq;
    if (options.node !== undefined && line.node !== options.node) return;
    write(sseFrame("log", line, line.seq));
  };
  const writeEnd = (record: RunRecord) => {
    write(sseFrame("end", record));
    close();
  };
  const emit = (event: RunEvent) => {
    switch (event.type) {
      case "log":
        return writeLog(event.line);
      case "node":
        if (options.node === undefined || event.nodeId === options.node) {
          write(sseFrame("node", event));
        }
        return;
      case "run":
        return write(sseFrame("run", event.record));
      case "end":
        return writeEnd(event.record);
    }
  };

  return new ReadableStream<Uint8Array>({
    start: async (c) => {
      controller = c;
      if (options.signal?.aborted) return close();
      options.signal?.addEventListener("abort", close, { once: true });
      unsubscribe = manager.subscribe(runId, (event) => {
        if (closed) return;
        if (live) emit(event);
        else buffered.push(event);
      });
      write("retry: 1000\n\n");
      try {
        const record = await manager.getRun(runId);
        for (const line of await manager.getLogs(runId, { afterSeq: lastSeq })) writeLog(line);
        if (record === undefined) return close();
        if (isFinishedStatus(record.status)) {
          // Lines persisted after the read above arrive as buffered events.
          for (const event of buffered) if (event.type === "log") writeLog(event.line);
          return writeEnd((await manager.getRun(runId)) ?? record);
        }
      } catch (error) {
        closed = true;
        unsubscribe();
        return controller.error(error);
      }
      live = true;
      const pending = buffered;
      buffered = [];
      for (const event of pending) emit(event);
      if (!closed && (options.heartbeatMs ?? 15_000) > 0) {
        heartbeat = setInterval(() => write(": keep-alive\n\n"), options.heartbeatMs ?? 15_000);
      }
    },
    cancel: () => close(),
  });
}
