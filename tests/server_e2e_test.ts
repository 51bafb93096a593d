import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, cli, ROOT, stdoutJson, tempDir } from "./_cli.ts";
import {
  CallbackServer,
  freePort,
  gatedProject,
  gatedServeArgs,
  sseReader,
  startServe,
} from "./_serve.ts";
import { startFakeKube } from "./fake_kube/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("`pipedreamer serve` answers the HTTP API end to end", async (t) => {
  await using callback = new CallbackServer();
  await using project = await gatedProject(callback);
  await using server = await startServe(gatedServeArgs(project));
  const auth = { authorization: `Bearer ${project.token}` };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { ...auth, ...init.headers } });
  const json = async (response: Response): Promise<Json> => await response.json();
  const start = async (key?: string): Promise<string> => {
    const response = await api("/runs", {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
      body: '{"n":1}',
    });
    assert.equal(response.status, 202);
    return (await json(response)).runId;
  };

  await t.step("GET /health needs no token", async () => {
    const response = await fetch(`${server.url}/health`);
    assert.equal(response.status, 200);
    const body = await json(response);
    assert.deepEqual([body.status, body.workflow, body.version], ["ok", "gated", "1.0.0"]);
    assert.match(body.codeHash, /^[0-9a-f]{64}$/);
  });

  await t.step("every other route answers 401 without the token", async () => {
    for (const path of ["/runs", "/metrics", "/openapi.json", "/run"]) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 401, path);
      assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="pipedreamer"');
      assert.equal((await json(response)).error.code, "unauthorized");
    }
  });

  await t.step("POST /run waits and answers 200 with the record", async () => {
    const response = await api("/run", { method: "POST", body: '{"n":1}' });
    assert.equal(response.status, 200);
    const record = await json(response);
    assert.equal(record.status, "succeeded");
    assert.deepEqual(Object.keys(record.result), ["n", "first", "middle", "last"]);
    assert.equal(record.trigger, "manual");
    // The config overlay (--config-dir) pointed the nodes at the callback server.
    assert.equal(callback.count("first", record.runId), 1);
  });

  await t.step("POST /runs answers 202 and the run is polled to its end", async () => {
    const runId = await start();
    let record: Json;
    do {
      record = await json(await api(`/runs/${runId}`));
    } while (record.status === "queued" || record.status === "running");
    assert.equal(record.status, "succeeded");
    assert.deepEqual(
      Object.values(record.nodes as Record<string, Json>).map((n) => [n.status, n.attempts]),
      [["succeeded", 1], ["succeeded", 1], ["succeeded", 1]],
    );
  });

  await t.step("a repeated Idempotency-Key returns the same run, which runs once", async () => {
    callback.hold("middle");
    const runId = await start("order-7");
    const again = await api("/runs", {
      method: "POST",
      headers: { "idempotency-key": "order-7" },
      body: '{"n":1}',
    });
    assert.equal(again.status, 200);
    assert.deepEqual(await json(again), { runId });
    await callback.waitForCall("middle", 1, runId);
    callback.release("middle");
    const end = sseReader(
      await api(`/runs/${runId}/logs`, { headers: { accept: "text/event-stream" } }),
    );
    for (let f = await end.next(); f && f.event !== "end"; f = await end.next());
    assert.equal(callback.count("first", runId), 1);
    assert.equal(callback.calls.filter((c) => c.run === runId).length, 3);
  });

  await t.step("GET /runs/:id/logs streams server-sent events until the run ends", async () => {
    callback.hold("middle");
    const runId = await start();
    const response = await api(`/runs/${runId}/logs`, { headers: { accept: "text/event-stream" } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    const frames = sseReader(response);
    const seen: { id?: string; event: string; data: Json }[] = [];
    for (;;) {
      const frame = await frames.next();
      assert.ok(frame, "the stream stays open while the run is live");
      seen.push(frame as { id?: string; event: string; data: Json });
      if (frame.event === "log" && (frame.data as Json).msg === "calling back for middle") break;
    }
    callback.release("middle");
    for (let f = await frames.next(); f; f = await frames.next()) {
      seen.push(f as { id?: string; event: string; data: Json });
    }
    const logs = seen.filter((f) => f.event === "log");
    assert.deepEqual(logs.map((f) => Number(f.id)), logs.map((_, i) => i + 1));
    assert.deepEqual(logs.map((f) => f.data.msg), [
      "calling back for first",
      "released first",
      "calling back for middle",
      "released middle",
      "calling back for last",
      "released last",
    ]);
    assert.ok(
      seen.some((f) =>
        f.event === "node" && f.data.node.progress?.message === "waiting for the test"
      ),
      "progress reports are streamed as node events",
    );
    const end = seen.at(-1)!;
    assert.equal(end.event, "end");
    assert.equal(end.data.status, "succeeded");

    const resumed = sseReader(
      await api(`/runs/${runId}/logs`, {
        headers: { accept: "text/event-stream", "last-event-id": "4" },
      }),
    );
    const rest: string[] = [];
    for (let f = await resumed.next(); f; f = await resumed.next()) {
      rest.push(`${f.event}:${f.id ?? ""}`);
    }
    assert.deepEqual(rest, ["log:5", "log:6", "end:"]);

    const lines = (await (await api(`/runs/${runId}/logs`)).text()).trim().split("\n");
    assert.equal(lines.length, 6);
    assert.equal(JSON.parse(lines[0]!).node, "first");
  });

  await t.step("POST /runs/:id/cancel aborts a running node; a second cancel is 409", async () => {
    callback.hold("middle");
    const runId = await start();
    await callback.waitForCall("middle", 1, runId);
    const response = await api(`/runs/${runId}/cancel`, { method: "POST" });
    assert.equal(response.status, 200);
    const record = await json(response);
    assert.equal(record.status, "cancelled");
    assert.equal(record.nodes.first.status, "succeeded");
    assert.equal(record.nodes.middle.status, "cancelled");
    assert.equal(callback.count("last", runId), 0);
    const again = await api(`/runs/${runId}/cancel`, { method: "POST" });
    assert.equal(again.status, 409);
    assert.equal((await json(again)).error.code, "conflict");
    callback.release("middle");
  });

  await t.step("GET /metrics, /openapi.json and the error answers", async () => {
    const metrics = await (await api("/metrics")).text();
    assert.match(metrics, /^pipedreamer_runs_total\{workflow="gated",status="succeeded"\} [4-9]$/m);
    assert.match(metrics, /^pipedreamer_runs_total\{workflow="gated",status="cancelled"\} 1$/m);
    const openapi = await json(await api("/openapi.json"));
    assert.equal(openapi.openapi, "3.1.0");
    assert.ok(openapi.paths["/runs/{id}/logs"].get);
    const missing = await api("/runs/no-such-run");
    assert.equal(missing.status, 404);
    assert.equal((await json(missing)).error.code, "not_found");
    const method = await api("/runs", { method: "DELETE" });
    assert.equal(method.status, 405);
    assert.equal(method.headers.get("allow"), "GET, POST, HEAD");
    await method.body?.cancel();
    const badJson = await api("/runs", { method: "POST", body: "{n:" });
    assert.equal(badJson.status, 400);
    assert.equal((await json(badJson)).error.code, "bad_request");
  });

  await t.step("garbage on the wire never takes the server down", async () => {
    const raw = async (bytes: Uint8Array) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      try {
        await conn.write(bytes);
        const buffer = new Uint8Array(4096);
        await conn.read(buffer).catch(() => null);
      } finally {
        conn.close();
      }
    };
    const random = new Uint8Array(2048);
    crypto.getRandomValues(random);
    await raw(random);
    const encoder = new TextEncoder();
    await raw(
      encoder.encode(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(200_000)}\r\n\r\n`),
    );
    await raw(
      encoder.encode("POST /runs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{"),
    );
    const invalidUtf8 = await api("/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    assert.equal(invalidUtf8.status, 400);
    await invalidUtf8.body?.cancel();
    const wrongType = await api("/run", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=x" },
      body: "--x--",
    });
    assert.equal(wrongType.status, 415);
    await wrongType.body?.cancel();
    // A chunked body without end: the 413 must come while it is still being sent.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await conn.write(encoder.encode(
      `POST /runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${project.token}\r\n` +
        "Transfer-Encoding: chunked\r\n\r\n",
    ));
    const answer = new Uint8Array(4096);
    const reading = conn.read(answer);
    let sent = 0;
    const chunk = encoder.encode(`10000\r\n${" ".repeat(0x10000)}\r\n`);
    let done = false;
    reading.finally(() => done = true);
    try {
      while (!done && sent < 64 * 1024 * 1024) sent += await conn.write(chunk);
    } catch (error) {
      // The server answered and closed while we were still sending: what this step wants.
      assert.ok(
        error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe,
      );
    }
    const head = new TextDecoder().decode(answer.subarray(0, (await reading) ?? 0));
    conn.close();
    assert.match(head, /^HTTP\/1\.1 413 /);
    assert.match(head, /\r\nconnection: close\r\n/i);
    assert.ok(sent < 64 * 1024 * 1024, "answered before the body ended");
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  await t.step("`runs` reads and cancels through the server", async () => {
    const url = ["--url", server.url];
    const env = { PIPEDREAMER_TOKEN: project.token };
    const list = await cli(["runs", "list", ...url, "--limit", "2", "-o", "json"], { env });
    assertExit(list, 0);
    const page = stdoutJson<{ runs: Json[]; nextCursor: string }>(list);
    assert.equal(page.runs.length, 2);
    assert.equal(typeof page.nextCursor, "string");
    const runId = page.runs[1]!.runId;
    const show = await cli(["runs", "show", runId, ...url, "--token", project.token]);
    assertExit(show, 0);
    assert.match(show.stdout, new RegExp(`^run +${runId}$`, "m"));
    const unauthorized = await cli(["runs", "list", ...url], { env: { PIPEDREAMER_TOKEN: "" } });
    assertExit(unauthorized, 1);
    assert.match(
      unauthorized.stderr,
      /Cannot authenticate.*; pass --token or set PIPEDREAMER_TOKEN/,
    );
    assert.ok(!unauthorized.stderr.includes(project.token));

    callback.hold("middle");
    const live = await start();
    await callback.waitForCall("middle", 1, live);
    const cancel = await cli(["runs", "cancel", live, ...url], { env });
    assertExit(cancel, 0);
    assert.equal(cancel.stdout, `run ${live} cancelled\n`);
    callback.release("middle");
    const logs = await cli(["runs", "logs", live, "-f", ...url, "-o", "json"], { env });
    assertExit(logs, 0);
    const lines = logs.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.slice(0, 3).map((l) => l.msg), [
      "calling back for first",
      "released first",
      "calling back for middle",
    ]);
  });

  await t.step("SIGTERM stops it with exit 0 and the local store keeps the history", async () => {
    const status = await server.stop("SIGTERM");
    assert.equal(status.code, 0, server.stderr());
    assert.match(server.stderr(), /^draining: /m);
    assert.ok(server.stderr().endsWith("stopped\n"), server.stderr());
    assert.ok(!server.stderr().includes(project.token), "the token never reaches the logs");
    const list = await cli(["runs", "list", "--data", project.data, "--status", "cancelled"]);
    assertExit(list, 0);
    assert.equal(list.stdout.trim().split("\n").length, 3, list.stdout);
    assert.match(list.stdout, /^RUN +STATUS +TRIGGER +STARTED +DURATION +WORKFLOW$/m);
    const runId = list.stdout.split("\n")[1]!.split(" ")[0]!;
    const logs = await cli(["runs", "logs", runId, "--data", project.data]);
    assertExit(logs, 0);
    assert.match(
      logs.stdout,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z \[first\] info {2}calling back for first/m,
    );
  });
});

/** `serve` flags for a gated project on `port`. */
async function submit(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/runs`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: '{"n":1}',
  });
  assert.equal(response.status, 202);
  return (await response.json()).runId;
}

async function storedRun(data: string, runId: string): Promise<Json> {
  const show = await cli(["runs", "show", runId, "--data", data, "-o", "json"]);
  assertExit(show, 0);
  return stdoutJson(show);
}

Deno.test("`pipedreamer serve` resumes a run after kill -9 without re-running completed nodes", async () => {
  await using callback = new CallbackServer();
  await using project = await gatedProject(callback);
  const args = gatedServeArgs(project, { port: freePort(), grace: "5m" });
  const auth = { authorization: `Bearer ${project.token}` };
  callback.hold("middle");
  let runId: string;
  {
    await using first = await startServe(args);
    runId = await submit(first.url, project.token);
    await callback.waitForCall("middle", 1, runId);
    // `first` completed once `middle` runs: kill at once, without waiting for an fsync (its
    // success is committed in the turn that ended it, before `middle` started).
    const status = await first.stop("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
    const interrupted = await storedRun(project.data, runId);
    assert.equal(
      interrupted.status,
      "running",
      `${JSON.stringify(interrupted)}\n${first.stderr()}`,
    );
  }
  callback.release("middle");

  await using second = await startServe(args);
  assert.match(second.stderr(), /^recovered 1 running and 0 queued runs from the store$/m);
  const frames = sseReader(
    await fetch(`${second.url}/runs/${runId}/logs`, {
      headers: { ...auth, accept: "text/event-stream" },
    }),
  );
  let end: Json | undefined;
  for (let f = await frames.next(); f; f = await frames.next()) {
    if (f.event === "end") end = f.data as Json;
  }
  assert.equal(end?.status, "succeeded", JSON.stringify(end));
  assert.deepEqual(Object.keys(end.result), ["n", "first", "middle", "last"]);
  assert.equal(callback.count("first", runId), 1, "the completed node was not executed again");
  assert.equal(callback.count("middle", runId), 2, "the interrupted node ran again");
  assert.equal(callback.count("last", runId), 1);
  assert.equal(end.nodes.first.attempts, 1);
  assert.equal((await second.stop("SIGTERM")).code, 0);
});

Deno.test("`pipedreamer serve` drains on SIGTERM: the running run finishes, new requests get 503", async () => {
  await using callback = new CallbackServer();
  await using project = await gatedProject(callback);
  callback.hold("middle");
  await using server = await startServe(gatedServeArgs(project, { grace: "5m" }));
  const runId = await submit(server.url, project.token);
  await callback.waitForCall("middle", 1, runId);
  server.child.kill("SIGTERM");
  await server.waitForStderr(/^draining: running runs may finish within 5m 0s…$/m);

  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 503);
  assert.equal((await health.json()).status, "draining");
  const refused = await fetch(`${server.url}/runs`, {
    method: "POST",
    headers: { authorization: `Bearer ${project.token}` },
    body: "{}",
  });
  assert.equal(refused.status, 503);
  assert.equal((await refused.json()).error.code, "draining");

  callback.release("middle");
  assert.equal((await server.status).code, 0, server.stderr());
  const record = await storedRun(project.data, runId);
  assert.equal(record.status, "succeeded");
  assert.equal(callback.count("last", runId), 1);
});

Deno.test("`pipedreamer serve` leaves runs still running when the grace ends resumable: the restart finishes them", async () => {
  await using callback = new CallbackServer();
  await using project = await gatedProject(callback);
  callback.hold("middle");
  const args = gatedServeArgs(project, { port: freePort(), grace: "200ms" });
  let runId: string;
  {
    await using server = await startServe(args);
    runId = await submit(server.url, project.token);
    await callback.waitForCall("middle", 1, runId);
    assert.equal((await server.stop("SIGTERM")).code, 0, server.stderr());
  }
  const stored = await storedRun(project.data, runId);
  assert.equal(stored.status, "running", "not cancelled: only an explicit cancel cancels");
  assert.equal(stored.nodes.first.status, "succeeded");
  assert.equal(stored.error, undefined);
  callback.release("middle");
  await using again = await startServe(args);
  assert.match(again.stderr(), /^recovered 1 running and 0 queued runs from the store$/m);
  const frames = sseReader(
    await fetch(`${again.url}/runs/${runId}/logs`, {
      headers: { authorization: `Bearer ${project.token}`, accept: "text/event-stream" },
    }),
  );
  let end: Json | undefined;
  for (let f = await frames.next(); f; f = await frames.next()) {
    if (f.event === "end") end = f.data as Json;
  }
  assert.equal(end?.status, "succeeded", JSON.stringify(end));
  assert.equal(callback.count("first", runId), 1, "the completed node was not executed again");
  assert.equal(callback.count("middle", runId), 2, "the interrupted node ran again");
  assert.equal(callback.count("last", runId), 1);
  assert.equal((await again.stop("SIGTERM")).code, 0);
});

Deno.test("`pipedreamer serve` needs a token unless --no-auth is explicit", async (t) => {
  await using callback = new CallbackServer();
  await using project = await gatedProject(callback);
  const base = ["serve", project.dir, "--port", "0", "--host", "127.0.0.1", "--data", project.data];
  const noToken = { PIPEDREAMER_TOKEN: "" };

  await t.step("no token at all: exit 1 with the ways to give one", async () => {
    const result = await cli(base, { env: noToken });
    assertExit(result, 1);
    assert.match(
      result.stderr,
      /^Error: Cannot start serve: no API token; mount it at \/app\/secrets\/pipedreamer\/token, pass --token-file <file> or set PIPEDREAMER_TOKEN, or pass --no-auth to serve without auth$/m,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  await t.step("an unreadable --token-file: exit 1", async () => {
    const result = await cli([...base, "--token-file", `${project.dir}/missing`], { env: noToken });
    assertExit(result, 1);
    assert.match(result.stderr, /Cannot read token file ".*missing"/);
  });

  await t.step("PIPEDREAMER_TOKEN is the token", async () => {
    await using server = await startServe(base, { env: { PIPEDREAMER_TOKEN: "env-token-123" } });
    assert.equal(
      (await fetch(`${server.url}/runs`).then((r) => (r.body?.cancel(), r))).status,
      401,
    );
    const ok = await fetch(`${server.url}/runs`, {
      headers: { authorization: "Bearer env-token-123" },
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal((await server.stop()).code, 0);
  });

  await t.step("--no-auth serves without a token", async () => {
    await using server = await startServe([...base, "--no-auth"], { env: noToken });
    const ok = await fetch(`${server.url}/runs`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal((await server.stop()).code, 0);
  });

  await t.step("bad flag values are usage errors", async () => {
    for (
      const [flags, message] of [
        [["--port", "http"], /Cannot use --port "http": expected an integer from 0 to 65535/],
        [["--grace", "30"], /Cannot use --grace: .*has no unit/],
        [["--max-body", "0"], /Cannot use --max-body "0"/],
        [
          ["--cron", "sometimes"],
          /Cannot use --cron "sometimes": expected "internal" or "external"/,
        ],
        [
          ["--durability", "fast"],
          /argument 'fast' is invalid\. Allowed choices are full, relaxed/,
        ],
      ] as const
    ) {
      const result = await cli([...base, "--no-auth", ...flags]);
      assertExit(result, 2);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Usage: pipedreamer serve/);
    }
    const env = await cli([...base, "--no-auth"], { env: { PIPEDREAMER_CRON: "k8s" } });
    assertExit(env, 2);
    assert.match(
      env.stderr,
      /Cannot use PIPEDREAMER_CRON "k8s": expected "internal" or "external"/,
    );
  });
});

Deno.test("`pipedreamer serve` and `dev` give ctx.k8s the kubeconfig's cluster (examples/cluster-health)", async () => {
  await using tmp = await tempDir();
  const kube = await startFakeKube({
    nodes: { "node-a": true, "node-b": false },
    namespaces: ["default", "team"],
  });
  try {
    kube.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "api-0", namespace: "team" },
      spec: { containers: [{ name: "api", image: "ghcr.io/acme/api:1" }] },
    });
    const kubeconfig = join(tmp.path, "kubeconfig");
    await Deno.writeTextFile(kubeconfig, kube.kubeconfig());
    const dir = join(tmp.path, "cluster-health");
    await Deno.mkdir(join(dir, "nodes"), { recursive: true });
    for (
      const file of [
        "workflow.yaml",
        "nodes/_k8s.ts",
        "nodes/collect-nodes.ts",
        "nodes/collect-pods.ts",
        "nodes/summarize.ts",
      ]
    ) {
      await Deno.copyFile(join(ROOT, "examples/cluster-health", file), join(dir, file));
    }
    const env = { KUBECONFIG: kubeconfig, PIPEDREAMER_TOKEN: "" };
    for (
      const args of [
        [
          "serve",
          dir,
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--no-auth",
          "--data",
          join(tmp.path, "data"),
          "--cron",
          "external",
        ],
        ["dev", dir, "--port", "0"],
      ]
    ) {
      await using server = await startServe(args, { env });
      const response = await fetch(`${server.url}/run`, { method: "POST", body: "{}" });
      const record = await response.json();
      assert.equal(response.status, 200, `${args[0]}: ${JSON.stringify(record)}`);
      // node-b is NotReady; the fake API server keeps no pod status, so api-0 reads as Unknown.
      assert.deepEqual(record.result, {
        healthy: false,
        nodes: { total: 2, notReady: ["node-b"] },
        pods: { total: 1, unhealthy: ["team/api-0"] },
      });
      assert.equal((await server.stop()).code, 0, server.stderr());
    }
    const reads = kube.requests.filter((r) => r.method === "GET" && r.path === "/api/v1/nodes");
    assert.equal(reads.length, 2, "each server read the nodes through ctx.k8s");
  } finally {
    await kube.close();
  }
});
