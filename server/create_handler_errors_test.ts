import assert from "node:assert/strict";
import { loadWorkflow } from "../engine/mod.ts";
import { createHandler, type HandlerOptions } from "./create_handler.ts";
import { FakeRunApi } from "./testdata/fake_run_api.ts";

const workflow = await loadWorkflow(new URL("../examples/hello-world", import.meta.url).pathname);

function setup(options: HandlerOptions = {}) {
  const manager = new FakeRunApi(workflow);
  const handler = createHandler(manager, { auth: false, ...options });
  const call = (path: string, init: RequestInit = {}) =>
    handler(new Request(`http://localhost${path}`, init));
  return { manager, handler, call };
}

async function errorOf(response: Response) {
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return (await response.json()).error as { code: string; message: string; details?: unknown };
}

/** A body stream of `size` bytes in 64 KiB chunks, with no Content-Length. */
function streamOf(size: number, onPull?: () => void): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      onPull?.();
      const n = Math.min(65_536, size - sent);
      if (n <= 0) return controller.close();
      controller.enqueue(new Uint8Array(n).fill(0x20));
      sent += n;
    },
  });
}

Deno.test("`createHandler()` answers 413 for a body over the limit while it streams in", async () => {
  const { call, manager } = setup({ maxBodyBytes: 100_000 });
  let pulls = 0;
  const response = await call("/runs", {
    method: "POST",
    body: streamOf(10_000_000, () => pulls++),
  });
  assert.equal(response.status, 413);
  const error = await errorOf(response);
  assert.equal(error.code, "payload_too_large");
  assert.deepEqual(error.details, { maxBytes: 100_000 });
  assert.ok(pulls < 10, `stopped reading early (${pulls} chunks pulled)`);
  assert.equal(manager.runs.size, 0);
});

Deno.test("`createHandler()` answers 413 from Content-Length alone and accepts a body at the limit", async () => {
  const { call } = setup({ maxBodyBytes: 16 });
  const announced = await call("/run", {
    method: "POST",
    headers: { "content-length": "17" },
    body: "{}",
  });
  assert.equal(announced.status, 413);
  await announced.body?.cancel();
  const { call: call2, manager } = setup({ maxBodyBytes: 16 });
  manager.autoFinish = () => ({ status: "succeeded" });
  const exact = await call2("/run", { method: "POST", body: '{"name":"Ada"} ' + " " });
  assert.equal(exact.status, 200);
  await exact.body?.cancel();
});

for (
  const [name, init, status, code, message] of [
    ["bad JSON", { body: "{name:" }, 400, "bad_request", /^Cannot parse request body as JSON/],
    [
      "invalid UTF-8",
      { body: new Uint8Array([0x22, 0xc3, 0x28, 0x22]) },
      400,
      "bad_request",
      /not valid UTF-8/,
    ],
    [
      "a non-JSON Content-Type",
      { body: "{}", headers: { "content-type": "text/html" } },
      415,
      "unsupported_media_type",
      /Content-Type is not JSON; send application\/json/,
    ],
    [
      "a form body (curl -d) that is not JSON",
      { body: "name=Ada", headers: { "content-type": "application/x-www-form-urlencoded" } },
      400,
      "bad_request",
      /Cannot parse request body as JSON/,
    ],
    [
      "a query parameter",
      { body: "{}", path: "/runs?wait=1" },
      400,
      "bad_request",
      /"wait": \/runs takes none/,
    ],
  ] as const
) {
  Deno.test(`\`createHandler()\` answers ${status} for ${name}`, async () => {
    const { call, manager } = setup();
    const { path = "/runs", ...rest } = init as RequestInit & { path?: string };
    const response = await call(path, { method: "POST", ...rest });
    assert.equal(response.status, status);
    const error = await errorOf(response);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    assert.equal(manager.runs.size, 0);
  });
}

Deno.test("`createHandler()` accepts JSON media types with parameters and +json", async () => {
  const { call, manager } = setup();
  for (
    const type of [
      "application/json; charset=utf-8",
      "application/merge-patch+json",
      "text/plain",
      "",
    ]
  ) {
    const response = await call("/runs", {
      method: "POST",
      headers: type ? { "content-type": type } : {},
      body: "{}",
    });
    assert.equal(response.status, 202, type);
    await response.body?.cancel();
  }
  assert.equal(manager.runs.size, 4);
});

Deno.test("`createHandler()` answers 429 with Retry-After when the queue is full", async () => {
  const { call, manager } = setup({ retryAfterSeconds: 7 });
  manager.queueLimit = 1;
  assert.equal((await call("/runs", { method: "POST", body: "{}" })).status, 202);
  for (const path of ["/runs", "/run"]) {
    const response = await call(path, { method: "POST", body: "{}" });
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after"), "7");
    const error = await errorOf(response);
    assert.equal(error.code, "queue_full");
    assert.match(error.message, /Cannot queue run/);
  }
});

Deno.test("`createHandler()` answers 503 when the manager is draining", async () => {
  const { call, manager } = setup();
  manager.draining = true;
  const response = await call("/runs", { method: "POST", body: "{}" });
  assert.equal(response.status, 503);
  assert.equal((await errorOf(response)).code, "draining");
});

Deno.test("`createHandler()` answers every request 503 while draining, /health included", async () => {
  let draining = false;
  const { call } = setup({ draining: () => draining });
  assert.equal((await call("/health")).status, 200);
  draining = true;
  const health = await call("/health");
  assert.equal(health.status, 503);
  assert.deepEqual(
    { status: "draining", draining: true },
    (({ status, draining }) => ({ status, draining }))(await health.json()),
  );
  for (const [method, path] of [["GET", "/runs"], ["POST", "/run"], ["GET", "/nope"]] as const) {
    const response = await call(path, { method });
    assert.equal(response.status, 503, path);
    assert.equal((await errorOf(response)).code, "draining");
  }
});

Deno.test("`createHandler()` answers 500 without details for an unexpected error and reports it", async () => {
  const seen: unknown[] = [];
  const { call, manager } = setup({ onError: (error) => seen.push(error) });
  manager.failWith = new Error("database password=hunter2 refused");
  const response = await call("/runs/abc");
  assert.equal(response.status, 500);
  const text = await response.text();
  assert.ok(!text.includes("hunter2"), text);
  assert.equal(JSON.parse(text).error.code, "internal");
  assert.deepEqual(seen, [manager.failWith]);
});

Deno.test("`createHandler()` validates its options", () => {
  const manager = new FakeRunApi(workflow);
  assert.throws(() => createHandler(manager, { auth: { token: "" } }), TypeError);
  for (const maxBodyBytes of [0, -1, 1.5, NaN]) {
    assert.throws(() => createHandler(manager, { maxBodyBytes }), RangeError);
  }
});

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("`createHandler()` answers random requests with a status and never loses a run", async () => {
  const { call, manager } = setup({ maxBodyBytes: 4096 });
  manager.autoFinish = () => ({ status: "succeeded" });
  const { runId } = await manager.submit({ name: "keep" });
  const next = random(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const paths = ["/run", "/runs", `/runs/${runId}`, `/runs/${runId}/logs`, "/metrics", "/x"];
  const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
  const types = ["application/json", "text/plain", "application/octet-stream", "", "a/b;c=d"];
  for (let i = 0; i < 300; i++) {
    const bytes = new Uint8Array(Math.floor(next() * 6000));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256);
    const method = pick(methods);
    const headers: Record<string, string> = {};
    const type = pick(types);
    if (type) headers["content-type"] = type;
    if (next() < 0.2) headers["idempotency-key"] = "k".repeat(Math.floor(next() * 400));
    if (next() < 0.2) headers["last-event-id"] = String(Math.floor(next() * 1e6) - 5);
    if (next() < 0.1) headers["x-huge"] = "h".repeat(60_000);
    const query = next() < 0.3
      ? `?limit=${Math.floor(next() * 2000)}&status=${pick(["", "x"])}`
      : "";
    const response = await call(`${pick(paths)}${query}`, {
      method,
      headers,
      body: method === "GET" || method === "HEAD" ? undefined : bytes,
    });
    assert.ok(response.status < 500, `${method} → ${response.status}`);
    await response.body?.cancel();
  }
  assert.equal((await manager.getRun(runId))?.input?.constructor, Object);
  assert.deepEqual((await manager.getRun(runId))?.input, { name: "keep" });
});
