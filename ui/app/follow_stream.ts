/// <reference lib="dom" />
/**
 * `followStream()`: keeps an event stream open across network drops and server restarts,
 * resuming with Last-Event-ID, until the caller's view is done with it.
 *
 * @module
 */

import { ApiClient, ApiError, type StreamHandlers } from "./api_client.ts";

/** Connection states shown to the user. */
export const StreamState = {
  Live: "live",
  Reconnecting: "reconnecting",
  Ended: "ended",
  Failed: "failed",
} as const;
/** One of {@link StreamState}. */
export type StreamState = typeof StreamState[keyof typeof StreamState];

/** Handlers of {@link followStream}. */
export interface FollowHandlers extends StreamHandlers {
  /** Connection state changes; `error` is set for {@link StreamState.Failed}. */
  onState?: (state: StreamState, error?: unknown) => void;
  /** True once the stream has nothing more to say (a run ended): no reconnect then. */
  isDone?: () => boolean;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Follows `url` until `signal` aborts, the stream is done, or the server refuses it with a 4xx
 * (401 is also reported to the client's onUnauthorized). Never rejects.
 */
export async function followStream(
  client: ApiClient,
  url: URL,
  handlers: FollowHandlers,
  signal: AbortSignal,
): Promise<void> {
  let lastEventId = "";
  let retryMs = 1000;
  while (!signal.aborted) {
    try {
      const result = await client.stream(url, {
        onOpen: () => {
          handlers.onState?.(StreamState.Live);
          handlers.onOpen?.();
        },
        onEvent: handlers.onEvent,
      }, { signal, lastEventId });
      lastEventId = result.lastEventId;
      retryMs = result.retryMs ?? retryMs;
      if (handlers.isDone?.()) {
        handlers.onState?.(StreamState.Ended);
        return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        handlers.onState?.(StreamState.Failed, error);
        return;
      }
    }
    if (signal.aborted) return;
    handlers.onState?.(StreamState.Reconnecting);
    await delay(retryMs, signal);
  }
}
