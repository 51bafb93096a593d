import assert from "node:assert/strict";
import { ApiClient, ApiError } from "./api_client.ts";
import { followStream, StreamState } from "./follow_stream.ts";
import type { SseEvent } from "./sse_parser.ts";

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body?: string;
}

/** A client over a fake fetch that records calls and answers with `answer`. */
function clientWith(
  answer: (call: Call) => Response | Promise<Response>,
  token: string | null = "s3cret",
) {
  const calls: Call[] = [];
  let unauthorized = 0;
  const client = new ApiClient({
    apiBase: new URL("http://host/"),
    dashboardBase: new URL("http://host/ui/"),
    token: () => token ?? undefined,
    onUnauthorized: () => unauthorized++,
    fetch: async (input, init) => {
      const call: Call = {
        url: String(input),
        method: init?.method ?? "GET",
        headers: new Headers(init?.headers),
        body: typeof init?.body === "string" ? init.body : undefined,
      };
      calls.push(call);
      return await answer(call);
    },
  });
  return { client, calls, unauthorized: () => unauthorized };
}

const json = (value: unknown, status = 200) => Response.json(value, { status });

Deno.test("`ApiClient` sends the session token as a Bearer header, never in the URL", async () => {
  const { client, calls } = clientWith(() => json({ runs: [], nextCursor: null }));
  await client.listRuns({ status: "failed", cursor: "c/1", limit: 50 });
  await client.workflow();
  await client.listRuns({
    q: "ab 1",
    since: "2025-01-31T00:00:00.000Z",
    until: "2025-02-01T00:00:00.000Z",
    limit: 5,
  });
  assert.equal(calls[0]!.url, "http://host/runs?status=failed&cursor=c%2F1&limit=50");
  assert.equal(calls[1]!.url, "http://host/ui/api/workflow");
  assert.equal(
    calls[2]!.url,
    "http://host/runs?q=ab+1&since=2025-01-31T00%3A00%3A00.000Z&until=2025-02-01T00%3A00%3A00.000Z&limit=5",
  );
  for (const call of calls) {
    assert.equal(call.headers.get("authorization"), "Bearer s3cret");
    assert.ok(!call.url.includes("s3cret"));
  }
  const anonymous = clientWith(() => json({}), null);
  await anonymous.client.getRun("r/1");
  assert.equal(anonymous.calls[0]!.headers.get("authorization"), null);
  assert.equal(anonymous.calls[0]!.url, "http://host/runs/r%2F1");
});

Deno.test("`ApiClient` posts inputs and cancels", async () => {
  const { client, calls } = clientWith(() => json({ runId: "r9" }, 202));
  assert.deepEqual(await client.submit({ a: 1 }), { runId: "r9" });
  await client.cancel("r9");
  assert.deepEqual(calls.map((c) => [c.method, c.url, c.body]), [
    ["POST", "http://host/runs", '{"a":1}'],
    ["POST", "http://host/runs/r9/cancel", undefined],
  ]);
  assert.equal(calls[0]!.headers.get("content-type"), "application/json");
});

Deno.test("`ApiClient` turns error answers into ApiError and reports 401s", async () => {
  const body = {
    error: { code: "invalid_input", message: "Cannot start run", details: { errors: ["/a x"] } },
  };
  const table: [Response, number, string, number][] = [
    [json(body, 400), 400, "Cannot start run", 0],
    [
      json({ error: { code: "unauthorized", message: "Cannot authenticate" } }, 401),
      401,
      "Cannot authenticate",
      1,
    ],
    [
      new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
      502,
      "502 Bad Gateway",
      0,
    ],
  ];
  for (const [response, status, message, unauthorizedCalls] of table) {
    const { client, unauthorized } = clientWith(() => response);
    const error = await client.submit({}).catch((e) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, status);
    assert.equal(error.message, message);
    assert.equal(unauthorized(), unauthorizedCalls);
  }
  const { client } = clientWith(() => json(body, 400));
  const error = await client.submit({}).catch((e) => e) as ApiError;
  assert.deepEqual(error.body, body);
});

function sse(chunks: string[]): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream" } });
}

Deno.test("`ApiClient.stream()` reads events with the token in the header", async () => {
  const { client, calls } = clientWith(() =>
    sse(["retry: 250\n\n", "id: 4\nevent: log\nda", "ta: x\n\n"])
  );
  const events: SseEvent[] = [];
  let opened = 0;
  const result = await client.stream(client.runEventsUrl("r1"), {
    onOpen: () => opened++,
    onEvent: (e) => events.push(e),
  }, { signal: new AbortController().signal, lastEventId: "3" });
  assert.deepEqual(events, [{ event: "log", data: "x", id: "4" }]);
  assert.equal(opened, 1);
  assert.deepEqual(result, { lastEventId: "4", retryMs: 250 });
  assert.equal(calls[0]!.url, "http://host/runs/r1/logs");
  assert.equal(calls[0]!.headers.get("accept"), "text/event-stream");
  assert.equal(calls[0]!.headers.get("last-event-id"), "3");
  assert.equal(calls[0]!.headers.get("authorization"), "Bearer s3cret");
});

Deno.test("`followStream()` reconnects with Last-Event-ID until the stream is done", async () => {
  let connection = 0;
  const { client, calls } = clientWith(() => {
    connection++;
    if (connection === 1) return sse(["retry: 0\n\n", "id: 1\nevent: log\ndata: a\n\n"]);
    if (connection === 2) return new Response("busy", { status: 503 });
    return sse(["id: 2\nevent: log\ndata: b\n\n", "event: end\ndata: {}\n\n"]);
  });
  const events: string[] = [];
  const states: string[] = [];
  let done = false;
  await followStream(client, client.allEventsUrl(), {
    onEvent: (e) => {
      events.push(e.event);
      if (e.event === "end") done = true;
    },
    onState: (s) => states.push(s),
    isDone: () => done,
  }, new AbortController().signal);
  assert.deepEqual(events, ["log", "log", "end"]);
  assert.deepEqual(states, [
    StreamState.Live,
    StreamState.Reconnecting,
    StreamState.Reconnecting,
    StreamState.Live,
    StreamState.Ended,
  ]);
  assert.deepEqual(calls.map((c) => c.headers.get("last-event-id")), [null, "1", "1"]);
  assert.equal(calls[0]!.url, "http://host/ui/api/events");
});

Deno.test("`followStream()` gives up on a 4xx and reports it", async () => {
  const { client } = clientWith(() =>
    json({ error: { code: "not_found", message: "Cannot find run" } }, 404)
  );
  const states: [string, unknown][] = [];
  await followStream(client, client.runEventsUrl("nope"), {
    onEvent: () => assert.fail("no events expected"),
    onState: (s, e) => states.push([s, e]),
  }, new AbortController().signal);
  assert.equal(states.length, 1);
  assert.equal(states[0]![0], StreamState.Failed);
  assert.equal((states[0]![1] as ApiError).status, 404);
});

Deno.test("`followStream()` stops when its signal aborts", async () => {
  const abort = new AbortController();
  const { client, calls } = clientWith(() => {
    abort.abort();
    return new Response("down", { status: 503 });
  });
  await followStream(client, client.allEventsUrl(), { onEvent: () => {} }, abort.signal);
  assert.equal(calls.length, 1);
});
