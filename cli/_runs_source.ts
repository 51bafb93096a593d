/**
 * Where `pipedreamer runs` reads and cancels runs: a local store (the SQLite file of `dev` or
 * `serve`, or a Postgres URL) or a running server's HTTP API.
 *
 * @module
 */

import { join } from "node:path";
import { isFinishedStatus, type RunRecord, type RunStatus } from "../engine/mod.ts";
import { openStore, type RunPage, type RunStore, type StoredLogLine } from "../store/mod.ts";
import { CliFailure } from "./_output.ts";

/** Options of {@link RunsSource.list}. */
export interface ListOptions {
  status?: RunStatus[];
  limit?: number;
  cursor?: string;
}

/** Run history and control, local or remote. Failures are {@link CliFailure}s. */
export interface RunsSource {
  list(options: ListOptions): Promise<RunPage>;
  show(runId: string): Promise<RunRecord>;
  logs(runId: string): Promise<StoredLogLine[]>;
  /** Passes every log line to `onLine` until the run ends; resolves with the final record. */
  follow(runId: string, onLine: (line: StoredLogLine) => void): Promise<RunRecord>;
  cancel(runId: string): Promise<RunRecord>;
  close(): Promise<void>;
}

const POLL_MS = 250;

function notFound(runId: string): CliFailure {
  return new CliFailure(`Cannot find run "${runId}"`);
}

function finished(record: RunRecord): CliFailure {
  return new CliFailure(
    `Cannot cancel run "${record.runId}": it already finished with status "${record.status}"`,
  );
}

/**
 * The local store: `storeUrl` when given, else `<dataDir>/runs.db`, which must exist (runs
 * never creates an empty store by accident).
 */
export async function openLocalSource(
  storeUrl: string | undefined,
  dataDir: string,
): Promise<RunsSource> {
  if (storeUrl === undefined) {
    const file = join(dataDir, "runs.db");
    try {
      await Deno.stat(file);
    } catch {
      throw new CliFailure(
        `Cannot open run store: no ${file}; pass --data <dir> (dev keeps runs in ` +
          "<workflow>/.pipedreamer), --store <url>, or --url <server>",
      );
    }
  }
  return localSource(await openStore(storeUrl, { dataDir }));
}

function localSource(store: RunStore): RunsSource {
  const show = async (runId: string) => {
    const record = await store.getRun(runId);
    if (record === undefined) throw notFound(runId);
    return record;
  };
  return {
    list: (options) => store.listRuns(options),
    show,
    async logs(runId) {
      await show(runId);
      return await store.getLogs(runId);
    },
    async follow(runId, onLine) {
      let afterSeq = 0;
      for (;;) {
        const record = await show(runId);
        for (const line of await store.getLogs(runId, { afterSeq })) {
          afterSeq = line.seq;
          onLine(line);
        }
        if (isFinishedStatus(record.status)) return record;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
    async cancel(runId) {
      const record = await show(runId);
      if (isFinishedStatus(record.status)) throw finished(record);
      // A live server executing the run sees this at its next lease renewal and aborts it, as
      // for a run cancelled by another replica.
      await store.updateRun(runId, { status: "cancelled", finishedAt: new Date().toISOString() });
      return await show(runId);
    },
    close: () => store.close(),
  };
}

/** A running server at `baseUrl`, with the bearer `token` when given. */
export function httpSource(baseUrl: string, token: string | undefined): RunsSource {
  const base = baseUrl.replace(/\/+$/, "");
  const headers = (extra: Record<string, string> = {}) => ({
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { ...init, headers: headers() });
    } catch (error) {
      throw new CliFailure(`Cannot reach ${base}: ${(error as Error).message}`);
    }
    if (response.ok) return response;
    const text = await response.text();
    let message = `${response.status} ${response.statusText}`;
    try {
      message = JSON.parse(text).error.message ?? message;
    } catch {
      // Not our JSON error: keep the status line.
    }
    const hint = response.status === 401 ? "; pass --token or set PIPEDREAMER_TOKEN" : "";
    throw new CliFailure(`${message}${hint}`);
  };
  const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
  const show = async (runId: string) => await (await request(runPath(runId))).json();
  return {
    async list(options) {
      const query = new URLSearchParams();
      if (options.status) query.set("status", options.status.join(","));
      if (options.limit !== undefined) query.set("limit", String(options.limit));
      if (options.cursor !== undefined) query.set("cursor", options.cursor);
      const page = await (await request(`/runs?${query}`)).json();
      return { runs: page.runs, nextCursor: page.nextCursor ?? undefined };
    },
    show,
    async logs(runId) {
      const text = await (await request(`${runPath(runId)}/logs`)).text();
      return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
    },
    async follow(runId, onLine) {
      let lastSeq = 0;
      let response: Response;
      try {
        response = await fetch(`${base}${runPath(runId)}/logs`, {
          headers: headers({ accept: "text/event-stream" }),
        });
      } catch (error) {
        throw new CliFailure(`Cannot reach ${base}: ${(error as Error).message}`);
      }
      if (!response.ok) {
        await response.body?.cancel();
        await show(runId); // throws the server's error
        throw new CliFailure(`Cannot follow run "${runId}": ${response.status}`);
      }
      for await (const frame of sseFrames(response.body!)) {
        if (frame.event === "log") {
          const line = JSON.parse(frame.data) as StoredLogLine;
          lastSeq = line.seq;
          onLine(line);
        } else if (frame.event === "end") {
          return JSON.parse(frame.data) as RunRecord;
        }
      }
      // The server went away before the run ended (e.g. it is draining).
      throw new CliFailure(
        `Cannot follow run "${runId}": the server closed the stream after line ${lastSeq}`,
      );
    },
    async cancel(runId) {
      return await (await request(`${runPath(runId)}/cancel`, { method: "POST" })).json();
    },
    close: () => Promise.resolve(),
  };
}

/** The frames of a server-sent event stream: `event` and the joined `data` lines. */
async function* sseFrames(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string }> {
  let buffer = "";
  for await (
    const chunk of body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
  ) {
    buffer += chunk.replaceAll("\r\n", "\n");
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of raw.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) yield { event, data: data.join("\n") };
    }
  }
}
