import assert from "node:assert/strict";
import { loadWorkflow } from "../engine/mod.ts";
import { createHandler } from "./create_handler.ts";
import { sseFrame } from "./_sse.ts";
import { FakeRunApi } from "./testdata/fake_run_api.ts";

const workflow = await loadWorkflow(new URL("../examples/hello-world", import.meta.url).pathname);

interface Frame {
  id?: string;
  event?: string;
  data?: unknown;
}

/** Reads SSE frames from a response body, one at a time. */
function frameReader(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<Frame | undefined> {
      while (true) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: Frame = {};
          for (const line of raw.split("\n")) {
            const [field, ...rest] = line.split(": ");
            const value = rest.join(": ");
            if (field === "id") frame.id = value;
            else if (field === "event") frame.event = value;
            else if (field === "data") frame.data = JSON.parse(value);
          }
          if (frame.event === undefined) continue; // retry: and comments
          return frame;
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += value;
      }
    },
    cancel: () => reader.cancel(),
  };
}

function setup() {
  const manager = new FakeRunApi(workflow);
  const controller = new AbortController();
  const handler = createHandler(manager, { signal: controller.signal, sseHeartbeatMs: 0 });
  const sse = (runId: string, headers: Record<string, string> = {}) =>
    handler(
      new Request(`http://localhost/runs/${runId}/logs`, {
        headers: { accept: "text/event-stream", ...headers },
      }),
    );
  return { manager, sse, controller };
}

Deno.test("`sseFrame()` frames an event with an optional id", () => {
  assert.equal(sseFrame("log", { a: "x\ny" }, 3), 'id: 3\nevent: log\ndata: {"a":"x\\ny"}\n\n');
  assert.equal(sseFrame("end", null), "event: end\ndata: null\n\n");
});

Deno.test("`createHandler()` streams a live run's stored lines, then live events, then end", async () => {
  const { manager, sse } = setup();
  const { runId } = await manager.submit({ name: "Ada" });
  manager.log(runId, "before-1", "greet");
  manager.log(runId, "before-2", "greet");
  const response = await sse(runId);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  const frames = frameReader(response);
  assert.deepEqual(
    [await frames.next(), await frames.next()].map((
      f,
    ) => [f?.id, f?.event, (f?.data as { msg: string }).msg]),
    [["1", "log", "before-1"], ["2", "log", "before-2"]],
  );
  manager.node(runId, "greet", { status: "running", attempts: 1, progress: { value: 0.5 } });
  manager.log(runId, "live-3", "greet");
  manager.finish(runId, "succeeded", { ok: true });
  const node = await frames.next();
  assert.equal(node?.event, "node");
  assert.equal(node?.id, undefined);
  assert.deepEqual(node?.data, {
    type: "node",
    runId,
    nodeId: "greet",
    node: { status: "running", attempts: 1, progress: { value: 0.5 } },
  });
  const live = await frames.next();
  assert.deepEqual([live?.id, live?.event, (live?.data as { msg: string }).msg], [
    "3",
    "log",
    "live-3",
  ]);
  assert.equal((await frames.next())?.event, "run");
  const end = await frames.next();
  assert.equal(end?.event, "end");
  assert.deepEqual((end?.data as { status: string; result: unknown }).result, { ok: true });
  assert.equal(await frames.next(), undefined, "the stream closes after end");
  assert.equal(manager.subscribers(runId), 0);
});

Deno.test("`createHandler()` honours Last-Event-ID and never repeats a line", async () => {
  const { manager, sse } = setup();
  const { runId } = await manager.submit({ name: "Ada" });
  for (let i = 1; i <= 4; i++) manager.log(runId, `line-${i}`);
  const frames = frameReader(await sse(runId, { "last-event-id": "2" }));
  assert.equal((await frames.next())?.id, "3");
  assert.equal((await frames.next())?.id, "4");
  manager.log(runId, "line-5");
  assert.equal((await frames.next())?.id, "5");
  await frames.cancel();
  assert.equal(manager.subscribers(runId), 0, "a client that goes away unsubscribes");
});

Deno.test("`createHandler()` streams a finished run's lines and end at once", async () => {
  const { manager, sse } = setup();
  const { runId } = await manager.submit({ name: "Ada" });
  manager.log(runId, "only");
  manager.finish(runId, "failed");
  const frames = frameReader(await sse(runId));
  assert.equal((await frames.next())?.event, "log");
  const end = await frames.next();
  assert.equal(end?.event, "end");
  assert.equal((end?.data as { status: string }).status, "failed");
  assert.equal(await frames.next(), undefined);
});

Deno.test("`createHandler()` filters the stream by ?node=", async () => {
  const { manager, sse: _sse } = setup();
  const handler = createHandler(manager, { sseHeartbeatMs: 0 });
  const { runId } = await manager.submit({ name: "Ada" });
  manager.log(runId, "a", "greet");
  manager.log(runId, "b", "shout");
  const frames = frameReader(
    await handler(
      new Request(`http://localhost/runs/${runId}/logs?node=shout`, {
        headers: { accept: "text/event-stream" },
      }),
    ),
  );
  manager.node(runId, "greet", { status: "succeeded", attempts: 1 });
  manager.log(runId, "c", "shout");
  manager.finish(runId, "succeeded");
  const seen: string[] = [];
  for (let f = await frames.next(); f; f = await frames.next()) {
    seen.push(f.event === "log" ? `log:${(f.data as { msg: string }).msg}` : f.event!);
  }
  assert.deepEqual(seen, ["log:b", "log:c", "run", "end"]);
});

Deno.test("`createHandler()` ends open streams when its signal aborts (shutdown)", async () => {
  const { manager, sse, controller } = setup();
  const { runId } = await manager.submit({ name: "Ada" });
  manager.log(runId, "x");
  const frames = frameReader(await sse(runId));
  assert.equal((await frames.next())?.event, "log");
  controller.abort();
  assert.equal(await frames.next(), undefined);
  assert.equal(manager.subscribers(runId), 0);
});
