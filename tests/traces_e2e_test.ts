import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, cli } from "./_cli.ts";
import { startServe } from "./_serve.ts";
import { waitFor } from "../testing/mod.ts";
import { OtlpReceiver, type ReceivedSpan } from "./_otlp_receiver.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const SECRET = "tr4ce-secret-token";

/** The service nodes fetch: it answers with the traceparent header it got. */
function echoServer() {
  const seen: { path: string; traceparent: string | null; authorization: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push({
      path: new URL(req.url).pathname,
      traceparent: req.headers.get("traceparent"),
      authorization: req.headers.get("authorization"),
    });
    return Response.json({ traceparent: req.headers.get("traceparent") });
  });
  return {
    seen,
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function tracedProject(echoUrl: string) {
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-traces-" });
  const dir = join(root, "traced");
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    `name: traced
version: "2.1.0"
services:
  echo: ${echoUrl}
nodes:
  ask:
    path: ./nodes/ask.ts
    capabilities: { net: "127.0.0.1" }
  flaky:
    path: ./nodes/flaky.ts
    capabilities: { secrets: [echo] }
    retries: 1
edges:
  - { from: ask, to: flaky }
config:
  timeout: 1m
  backoff: 10ms
`,
  );
  await Deno.writeTextFile(
    join(dir, "nodes/ask.ts"),
    `import type { Context } from "pipedreamer";
export default async function ask(ctx: Context) {
  const response = await ctx.fetch("echo", "/hello");
  return await response.json();
}
`,
  );
  await Deno.writeTextFile(
    join(dir, "nodes/flaky.ts"),
    `import type { Context } from "pipedreamer";
export default function flaky(ctx: Context, input: unknown) {
  const token = (ctx.secrets.echo as { token: string }).token;
  if (ctx.attempt === 1) throw new Error("first try fails with " + token);
  return input;
}
`,
  );
  await Deno.writeTextFile(join(dir, ".secrets.yaml"), `echo:\n  token: ${SECRET}\n`);
  return {
    dir,
    data: join(root, "data"),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

function checkTree(spans: ReceivedSpan[], runId: string, traceId: string, parent: string) {
  const run = spans.find((s) => s.name === "run traced")!;
  assert.ok(run, `no run span among ${spans.map((s) => s.name)}`);
  assert.equal(run.traceId, traceId);
  assert.equal(run.parentSpanId, parent, "the incoming traceparent is the run span's parent");
  assert.equal(run.attributes["pipedreamer.workflow"], "traced");
  assert.equal(run.attributes["pipedreamer.version"], "2.1.0");
  assert.equal(run.attributes["pipedreamer.status"], "succeeded");
  const attempts = spans.filter((s) => s.name.startsWith("node "))
    .map((
      s,
    ) => [
      s.attributes["pipedreamer.node"],
      s.attributes["pipedreamer.attempt"],
      s.attributes["pipedreamer.status"],
    ])
    .sort();
  assert.deepEqual(attempts, [["ask", 1, "succeeded"], ["flaky", 1, "failed"], [
    "flaky",
    2,
    "succeeded",
  ]]);
  for (const span of spans) {
    assert.equal(span.traceId, traceId);
    assert.equal(span.attributes["pipedreamer.run_id"], runId);
    if (span !== run) {
      assert.equal(span.parentSpanId, run.spanId, `${span.name} is a child of the run span`);
      assert.equal(span.attributes["pipedreamer.workflow"], "traced");
      assert.ok(span.start >= run.start && span.end <= run.end, `${span.name} lies within the run`);
    }
  }
  const failed = spans.find((s) => s.attributes["pipedreamer.status"] === "failed")!;
  assert.equal(failed.status.code, 2);
  assert.equal(failed.attributes["pipedreamer.error"], "first try fails with [REDACTED]");
  const retried = spans.find((s) => s.attributes["pipedreamer.attempt"] === 2)!;
  assert.ok(retried.start >= failed.end, "the retry starts after the failed attempt");
  return spans.find((s) => s.attributes["pipedreamer.node"] === "ask")!;
}

Deno.test("`serve` and `exec` export one OTLP/protobuf trace per run; ctx.fetch propagates traceparent", async (t) => {
  await using receiver = new OtlpReceiver();
  await using echo = echoServer();
  await using project = await tracedProject(echo.url);
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "50" };

  await t.step("serve: an incoming traceparent on POST /run is the parent", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parent = "00f067aa0ba902b7";
    await using server = await startServe([
      "serve",
      project.dir,
      ...["--port", "0", "--host", "127.0.0.1", "--no-auth", "--data", project.data],
    ], { env });
    const response = await fetch(`${server.url}/run`, {
      method: "POST",
      headers: { traceparent: `00-${traceId}-${parent}-01` },
      body: "{}",
    });
    const record: Json = await response.json();
    assert.equal(response.status, 200, JSON.stringify(record));
    await waitFor(() => receiver.of(record.runId).length === 4, "the run's 4 spans");
    const ask = checkTree(receiver.of(record.runId), record.runId, traceId, parent);
    // ctx.fetch sent the attempt span's context.
    const call = echo.seen.at(-1)!;
    assert.equal(call.traceparent, `00-${traceId}-${ask.spanId}-01`);
    assert.equal(call.authorization, `Bearer ${SECRET}`, "the secret still reaches the service");
    assert.equal(receiver.spans.find((s) => s.parentSpanId === undefined), undefined);
    await server.stop();
  });

  await t.step("exec: TRACEPARENT from the environment is the parent", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const parent = "b7ad6b7169203331";
    const result = await cli(["exec", project.dir, "-o", "json"], {
      env: { ...env, TRACEPARENT: `00-${traceId}-${parent}-01` },
    });
    assertExit(result, 0);
    const record = JSON.parse(result.stdout);
    // exec flushes before it exits: the spans are there when it returns.
    checkTree(receiver.of(record.runId), record.runId, traceId, parent);
  });

  // http/protobuf is the default protocol.
  assert.ok(receiver.requests.length > 0);
  for (const { contentType } of receiver.requests) assert.equal(contentType, PROTOBUF);
  assert.ok(receiver.spans.every((s) => s.service === "pipedreamer"));
  for (const { text } of receiver.requests) {
    assert.ok(!text.includes(SECRET), "a trace holds the secret");
  }
});

const PROTOBUF = "application/x-protobuf";
const JSON_TYPE = "application/json";

Deno.test("OTEL_EXPORTER_OTLP_PROTOCOL / _TRACES_PROTOCOL choose the encoding", async (t) => {
  await using echo = echoServer();
  await using project = await tracedProject(echo.url);
  const cases: [string, Record<string, string>, string][] = [
    ["http/json", { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, JSON_TYPE],
    ["http/protobuf", { OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }, PROTOBUF],
    ["the per-signal variable wins (json)", {
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
    }, JSON_TYPE],
    ["the per-signal variable wins (protobuf)", {
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
    }, PROTOBUF],
  ];
  for (const [name, protocolEnv, contentType] of cases) {
    await t.step(name, async () => {
      await using receiver = new OtlpReceiver();
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      const parent = "b7ad6b7169203331";
      const result = await cli(["exec", project.dir, "-o", "json"], {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          TRACEPARENT: `00-${traceId}-${parent}-01`,
          ...protocolEnv,
        },
      });
      assertExit(result, 0);
      const record = JSON.parse(result.stdout);
      checkTree(receiver.of(record.runId), record.runId, traceId, parent);
      assert.ok(receiver.requests.length > 0);
      for (const request of receiver.requests) {
        assert.equal(request.contentType, contentType);
        assert.ok(!request.text.includes(SECRET), "a trace holds the secret");
      }
    });
  }
});

Deno.test("an unsupported OTLP protocol fails dev, serve and exec at start-up (exit 2)", async (t) => {
  await using receiver = new OtlpReceiver();
  await using echo = echoServer();
  await using project = await tracedProject(echo.url);
  const commands = [
    ["exec", project.dir],
    ["serve", project.dir, ...["--port", "0", "--host", "127.0.0.1", "--no-auth"]],
    ["dev", project.dir, "--port", "0"],
  ];
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "grpc",
      { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      /error: Cannot use OTEL_EXPORTER_OTLP_PROTOCOL="grpc": expected "http\/protobuf" or "http\/json" \(OTLP\/gRPC is not supported\)/,
    ],
    [
      "garbage in the per-signal variable",
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/xml",
      },
      /error: Cannot use OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http\/xml": expected "http\/protobuf" or "http\/json"\n/,
    ],
  ];
  for (const [name, protocolEnv, message] of cases) {
    for (const args of commands) {
      await t.step(`${args[0]}: ${name}`, async () => {
        const result = await cli(args, {
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...protocolEnv },
        });
        assertExit(result, 2);
        assert.match(result.stderr, message);
      });
    }
  }
  assert.equal(receiver.requests.length, 0, "nothing ran, nothing was exported");
});
