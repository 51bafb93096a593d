/// <reference lib="dom" />
/**
 * The dashboard's HTTP client: JSON calls with the session's bearer token, and server-sent
 * events read with `fetch()` streaming so the token travels in the `Authorization` header (an
 * EventSource cannot set headers, and a token in the URL would end up in access logs).
 *
 * @module
 */

import type { RunRecord } from "../../engine/mod.ts";
import type { RunSummary } from "../../store/mod.ts";
import type { WorkflowInfo } from "../describe_workflow.ts";
import { type SseEvent, SseParser } from "./sse_parser.ts";

/** A non-2xx answer; `body` is the parsed JSON error (`{ error: { code, message, details } }`). */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(readonly status: number, message: string, readonly body: unknown) {
    super(message);
  }
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Root of the HTTP API (`/runs`, …). */
  apiBase: URL;
  /** Root of the dashboard (`api/workflow`, `api/events`). */
  dashboardBase: URL;
  /** The session's token, if any. */
  token: () => string | undefined;
  /** Called on every 401 (the page asks for the token again). */
  onUnauthorized: () => void;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Handlers of {@link ApiClient.stream}. */
export interface StreamHandlers {
  /** The server accepted the stream (its subscription is live). */
  onOpen?: () => void;
  onEvent: (event: SseEvent) => void;
}

/** One page of GET /runs. */
export interface RunsPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

/** Typed calls of the HTTP API and the dashboard's own endpoints. */
export class ApiClient {
  #options: ApiClientOptions;
  #fetch: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  #headers(extra: Record<string, string> = {}): Headers {
    const headers = new Headers(extra);
    const token = this.#options.token();
    if (token) headers.set("authorization", `Bearer ${token}`);
    return headers;
  }

  async #request(url: URL, init: RequestInit = {}): Promise<Response> {
    const response = await this.#fetch(url, {
      ...init,
      headers: this.#headers(Object.fromEntries(new Headers(init.headers).entries())),
    });
    if (response.ok) return response;
    let body: unknown = undefined;
    try {
      body = await response.json();
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    }
    if (response.status === 401) this.#options.onUnauthorized();
    const message = (body as { error?: { message?: string } })?.error?.message ??
      `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, body);
  }

  async #json<T>(url: URL, init?: RequestInit): Promise<T> {
    return await (await this.#request(url, init)).json() as T;
  }

  #api(path: string, query: Record<string, string | undefined> = {}): URL {
    const url = new URL(path, this.#options.apiBase);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    return url;
  }

  /** GET api/workflow (dashboard). */
  workflow(): Promise<WorkflowInfo> {
    return this.#json(new URL("api/workflow", this.#options.dashboardBase));
  }

  /** GET /runs */
  listRuns(
    options: {
      status?: string;
      /** Run id prefix. */
      q?: string;
      /** ISO instants: runs created at or after `since`, before `until`. */
      since?: string;
      until?: string;
      cursor?: string;
      limit: number;
    },
  ): Promise<RunsPage> {
    return this.#json(this.#api("runs", {
      status: options.status,
      q: options.q,
      since: options.since,
      until: options.until,
      cursor: options.cursor,
      limit: String(options.limit),
    }));
  }

  /** GET /runs/:id */
  getRun(runId: string): Promise<RunRecord> {
    return this.#json(this.#api(`runs/${encodeURIComponent(runId)}`));
  }

  /** POST /runs with the input as body; resolves with the new run's id. */
  submit(input: unknown): Promise<{ runId: string }> {
    return this.#json(this.#api("runs"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
  }

  /** POST /runs/:id/events/:event with the payload as body (a waiting run, SPEC §10). */
  signal(runId: string, event: string, payload: unknown): Promise<RunRecord> {
    return this.#json(
      this.#api(`runs/${encodeURIComponent(runId)}/events/${encodeURIComponent(event)}`),
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      },
    );
  }

  /** POST /runs/:id/retry, with `{ from }` when given; resolves with the new run's id. */
  retry(runId: string, from?: string): Promise<{ runId: string; warning?: string }> {
    return this.#json(this.#api(`runs/${encodeURIComponent(runId)}/retry`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: from === undefined ? "" : JSON.stringify({ from }),
    });
  }

  /** POST /runs/:id/cancel */
  cancel(runId: string): Promise<RunRecord> {
    return this.#json(this.#api(`runs/${encodeURIComponent(runId)}/cancel`), { method: "POST" });
  }

  /** The URL of a run's event stream (GET /runs/:id/logs with Accept: text/event-stream). */
  runEventsUrl(runId: string): URL {
    return this.#api(`runs/${encodeURIComponent(runId)}/logs`);
  }

  /** The URL of the all-runs event stream (GET api/events, dashboard). */
  allEventsUrl(): URL {
    return new URL("api/events", this.#options.dashboardBase);
  }

  /**
   * Reads one server-sent event stream until the server ends it or `signal` aborts. Resolves
   * with the parser's last event id and retry advice (to reconnect with Last-Event-ID).
   *
   * @throws {ApiError} for a non-2xx answer (401 also calls onUnauthorized)
   */
  async stream(
    url: URL,
    handlers: StreamHandlers,
    options: { signal: AbortSignal; lastEventId?: string },
  ): Promise<{ lastEventId: string; retryMs?: number }> {
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (options.lastEventId) headers["last-event-id"] = options.lastEventId;
    const response = await this.#request(url, { headers, signal: options.signal });
    const parser = new SseParser();
    parser.lastEventId = options.lastEventId ?? "";
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let opened = false;
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!opened) {
          opened = true;
          handlers.onOpen?.();
        }
        for (const event of parser.push(value)) handlers.onEvent(event);
      }
    } finally {
      reader.releaseLock();
    }
    return { lastEventId: parser.lastEventId, retryMs: parser.retryMs };
  }
}
