import assert from "node:assert/strict";
import { loadWorkflow } from "../engine/mod.ts";
import { createHandler, type HandlerOptions, ROUTES } from "./create_handler.ts";
import { FakeRunApi } from "./testdata/fake_run_api.ts";

const TOKEN = "t0ken-for-tests-0123456789";
const workflow = await loadWorkflow(new URL("../examples/hello-world", import.meta.url).pathname);

function setup(options: HandlerOptions = {}) {
  const manager = new FakeRunApi(workflow);
  const handler = createHandler(manager, { auth: { token: TOKEN }, ...options });
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? TOKEN : init.token;
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
    return handler(new Request(`http://localhost${path}`, { ...init, headers }));
  };
  return { manager, handler, call };
}

async function errorOf(
  response: Response,
): Promise<{ code: string; message: string; details?: unknown }> {
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = await response.json();
  assert.equal(typeof body.error?.code, "string", JSON.stringify(body));
  assert.equal(typeof body.error?.message, "string");
  return body.error;
}

Deno.test("`createHandler()` answers GET /health without a token", async () => {
  const { call } = setup();
  const response = await call("/health", { token: null });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    status: "ok",
    workflow: "hello-world",
    version: "1.0.0",
    codeHash: workflow.codeHash,
    draining: false,
  });
});

for (const route of ROUTES.filter((r) => r.auth)) {
  const path = route.path.replace(":id", "run-0001");
  Deno.test(`\`createHandler()\` requires the bearer token on ${route.method} ${route.path}`, async () => {
    const { call } = setup();
    for (
      const [token, header, code] of [
        [null, 'Bearer realm="pipedreamer"', "unauthorized"],
        ["wrong-token", 'Bearer realm="pipedreamer", error="invalid_token"', "unauthorized"],
        [`${TOKEN}x`, 'Bearer realm="pipedreamer", error="invalid_token"', "unauthorized"],
        ["", 'Bearer realm="pipedreamer"', "unauthorized"],
      ] as const
    ) {
      const response = await call(path, { method: route.method, token });
      assert.equal(response.status, 401, `token ${token}`);
      assert.equal(response.headers.get("www-authenticate"), header);
      const text = await response.text();
      assert.equal(JSON.parse(text).error.code, code);
      if (token) assert.ok(!text.includes(token), "the sent token is never echoed");
    }
  });
}

Deno.test("`createHandler()` accepts the token with any case of the Bearer scheme", async () => {
  const { handler } = setup();
  for (const header of [`bearer ${TOKEN}`, `BEARER  ${TOKEN}`, `Bearer ${TOKEN} `]) {
    const response = await handler(
      new Request("http://localhost/metrics", { headers: { authorization: header } }),
    );
    assert.equal(response.status, 200, header);
    await response.body?.cancel();
  }
  const basic = await handler(
    new Request("http://localhost/metrics", { headers: { authorization: `Basic ${btoa(TOKEN)}` } }),
  );
  assert.equal(basic.status, 401);
  await basic.body?.cancel();
});

Deno.test("`createHandler()` accepts the token in X-Pipedreamer-Token (through the k8s service proxy)", async () => {
  const { handler } = setup();
  for (
    const [headers, status] of [
      [{ "x-pipedreamer-token": TOKEN }, 200],
      [{ "X-Pipedreamer-Token": ` ${TOKEN} ` }, 200],
      [{ "x-pipedreamer-token": TOKEN, authorization: "Bearer gateway-oidc-token" }, 200],
      [{ "x-pipedreamer-token": "wrong-token", authorization: `Bearer ${TOKEN}` }, 200],
      [{ "x-pipedreamer-token": "wrong-token" }, 401],
      [{ "x-pipedreamer-token": `${TOKEN}x` }, 401],
      [{ "x-pipedreamer-token": "" }, 401],
      [{ "x-pipedreamer-token": "wrong-token", authorization: "Bearer also-wrong" }, 401],
    ] as const
  ) {
    const response = await handler(new Request("http://localhost/runs", { headers }));
    assert.equal(response.status, status, JSON.stringify(headers));
    if (status === 401) {
      const error = await errorOf(response);
      assert.equal(error.code, "unauthorized");
      assert.ok(!error.message.includes("wrong-token"), "the sent token is never echoed");
    } else {
      await response.body?.cancel();
    }
  }
  const missing = await handler(new Request("http://localhost/runs"));
  assert.match((await errorOf(missing)).message, /X-Pipedreamer-Token: <token>/);
});

Deno.test("`createHandler()` without auth needs no token", async () => {
  const { call } = setup({ auth: false });
  const response = await call("/runs", { token: null });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { runs: [], nextCursor: null });
});

Deno.test("`createHandler()` POST /run answers 200 with the record of a succeeded run", async () => {
  const { call, manager } = setup();
  manager.autoFinish = (record) => ({ status: "succeeded", result: { hello: record.input } });
  const response = await call("/run", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"name":"Ada"}',
  });
  assert.equal(response.status, 200);
  const record = await response.json();
  assert.equal(record.status, "succeeded");
  assert.deepEqual(record.result, { hello: { name: "Ada" } });
  assert.equal(response.headers.get("location"), `/runs/${record.runId}`);
  assert.equal(manager.runs.get(record.runId)?.trigger, "manual");
});

for (const status of ["failed", "cancelled"] as const) {
  Deno.test(`\`createHandler()\` POST /run answers 422 with the record of a ${status} run`, async () => {
    const { call, manager } = setup();
    manager.autoFinish = () => ({ status });
    const response = await call("/run", { method: "POST", body: "{}" });
    assert.equal(response.status, 422);
    assert.equal((await response.json()).status, status);
  });
}

Deno.test("`createHandler()` GET /run takes the input from ?input= and defaults to {}", async () => {
  const { call, manager } = setup();
  manager.autoFinish = (record) => ({ status: "succeeded", result: record.input });
  const withInput = await call(`/run?input=${encodeURIComponent('{"name":"Bo"}')}`);
  assert.equal(withInput.status, 200);
  assert.deepEqual((await withInput.json()).result, { name: "Bo" });
  const without = await call("/run");
  assert.deepEqual((await without.json()).input, {});
  const empty = await call("/run", { method: "POST", body: "  \n" });
  assert.deepEqual((await empty.json()).input, {});
  const bad = await call("/run?input=%7Bname");
  assert.equal(bad.status, 400);
  assert.match((await errorOf(bad)).message, /^Cannot parse query parameter "input" as JSON/);
});

Deno.test("`createHandler()` rejects input that fails inputSchema with 400 and the schema errors", async () => {
  const { call, manager } = setup();
  for (const path of ["/run", "/runs"]) {
    const response = await call(path, { method: "POST", body: '{"nam":"Ada"}' });
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.code, "invalid_input");
    assert.deepEqual(error.details, { errors: ['/ must NOT have additional properties "nam"'] });
  }
  assert.equal(manager.runs.size, 0);
});

Deno.test("`createHandler()` POST /runs answers 202 { runId }; a repeated Idempotency-Key gets 200 and the same run", async () => {
  const { call, manager } = setup();
  const first = await call("/runs", {
    method: "POST",
    headers: { "idempotency-key": "order-42" },
    body: '{"name":"Ada"}',
  });
  assert.equal(first.status, 202);
  const { runId } = await first.json();
  assert.equal(first.headers.get("location"), `/runs/${runId}`);
  const again = await call("/runs", {
    method: "POST",
    headers: { "idempotency-key": "order-42" },
    body: '{"name":"Ada"}',
  });
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { runId });
  const other = await call("/runs", { method: "POST", body: '{"name":"Ada"}' });
  assert.equal(other.status, 202);
  assert.notEqual((await other.json()).runId, runId);
  assert.equal(manager.runs.size, 2);
});

for (const key of ["", "has space", "é", "x".repeat(256)]) {
  Deno.test(`\`createHandler()\` rejects the Idempotency-Key ${JSON.stringify(key.slice(0, 12))} with 400`, async () => {
    const { call, manager } = setup();
    const response = await call("/runs", {
      method: "POST",
      headers: { "idempotency-key": key },
      body: "{}",
    });
    assert.equal(response.status, 400);
    assert.match((await errorOf(response)).message, /Idempotency-Key/);
    assert.equal(manager.runs.size, 0);
  });
}

Deno.test("`createHandler()` GET /runs pages newest first and filters by status", async () => {
  const { call, manager } = setup();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await manager.submit({ name: `n${i}` })).runId);
  }
  manager.finish(ids[1]!, "failed");
  manager.finish(ids[3]!, "succeeded");
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const response = await call(`/runs?limit=2${query}`);
    assert.equal(response.status, 200);
    const page = await response.json();
    assert.ok(page.runs.length <= 2);
    for (const run of page.runs) {
      assert.equal(run.nodes, undefined, "summaries have no node records");
      seen.push(run.runId);
    }
    cursor = page.nextCursor;
  } while (cursor !== null);
  assert.deepEqual(seen, [...ids].reverse());
  const filtered = await (await call("/runs?status=failed,succeeded")).json();
  assert.deepEqual(filtered.runs.map((r: { runId: string }) => r.runId), [ids[3], ids[1]]);
});

Deno.test("`createHandler()` GET /runs passes the run id search and the creation-time range to the store", async () => {
  const { call, manager } = setup();
  const response = await call(
    "/runs?q=%20ab12%20&since=2025-01-31&until=2025-02-01T09:30:00%2B01:00&status=failed&limit=5",
  );
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.deepEqual(manager.lastListOptions, {
    status: ["failed"],
    runIdPrefix: "ab12",
    createdFrom: Date.UTC(2025, 0, 31),
    createdBefore: Date.UTC(2025, 1, 1, 8, 30),
    limit: 5,
    cursor: undefined,
  });
  await (await call("/runs")).body?.cancel();
  assert.deepEqual(manager.lastListOptions, {
    status: undefined,
    runIdPrefix: undefined,
    createdFrom: undefined,
    createdBefore: undefined,
    limit: undefined,
    cursor: undefined,
  });
});

for (
  const [query, message] of [
    ["q=", /"q": expected 1 to 200 characters of a run id/],
    [`q=${"a".repeat(201)}`, /"q": expected 1 to 200 characters/],
    ["since=yesterday", /"since": expected an ISO 8601 date or date-time/],
    ["until=2025-01-31T10:00", /"until": expected an ISO 8601 date/],
    ["since=2025-13-45", /"since": expected an ISO 8601 date/],
    ["since=2025-02-01&until=2025-01-01", /since must be earlier than until/],
    ["status=done", /"done" is not a run status; use one or more of queued, running/],
    ["limit=0", /"limit": expected an integer from 1 to 1000/],
    ["limit=1001", /"limit": expected an integer from 1 to 1000/],
    ["limit=abc", /"limit"/],
    ["limit=1&limit=2", /"limit": it is repeated/],
    ["state=failed", /"state": \/runs accepts status, q, since, until, limit, cursor/],
    ["cursor=garbage", /^Cannot list runs: .*malformed cursor; pass the nextCursor/],
  ] as const
) {
  Deno.test(`\`createHandler()\` GET /runs?${query} answers 400`, async () => {
    const { call } = setup();
    const response = await call(`/runs?${query}`);
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.code, "bad_request");
    assert.match(error.message, message);
  });
}

Deno.test("`createHandler()` GET /runs/:id answers the record, 404 for an unknown id", async () => {
  const { call, manager } = setup();
  const { runId } = await manager.submit({ name: "Ada" });
  manager.node(runId, "greet", { status: "succeeded", attempts: 1, output: "hi" });
  const response = await call(`/runs/${runId}`);
  assert.equal(response.status, 200);
  const record = await response.json();
  assert.equal(record.runId, runId);
  assert.deepEqual(record.nodes.greet, { status: "succeeded", attempts: 1, output: "hi" });
  for (const path of ["/runs/nope", "/runs/nope/logs", "/runs/%E0%A4%A"]) {
    const missing = await call(path);
    assert.equal(missing.status, 404, path);
    assert.equal((await errorOf(missing)).code, "not_found");
  }
  const cancelMissing = await call("/runs/nope/cancel", { method: "POST" });
  assert.equal(cancelMissing.status, 404);
  assert.match((await errorOf(cancelMissing)).message, /^Cannot find run "nope"$/);
});

Deno.test("`createHandler()` GET /runs/:id/logs answers JSON lines, filtered by ?after and ?node", async () => {
  const { call, manager } = setup();
  const { runId } = await manager.submit({ name: "Ada" });
  manager.log(runId, "one", "greet");
  manager.log(runId, "two", "shout");
  manager.log(runId, "three", "greet");
  const response = await call(`/runs/${runId}/logs`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^application\/x-ndjson/);
  const lines = (await response.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.seq, l.msg]), [[1, "one"], [2, "two"], [3, "three"]]);
  const later = await (await call(`/runs/${runId}/logs?after=1&node=greet`)).text();
  assert.deepEqual(later.trimEnd().split("\n").map((l) => JSON.parse(l).msg), ["three"]);
  const bad = await call(`/runs/${runId}/logs?after=-1`);
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});

Deno.test("`createHandler()` POST /runs/:id/cancel cancels a running run; 409 once it finished", async () => {
  const { call, manager } = setup();
  const { runId } = await manager.submit({ name: "Ada" });
  const response = await call(`/runs/${runId}/cancel`, { method: "POST" });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).status, "cancelled");
  const again = await call(`/runs/${runId}/cancel`, { method: "POST" });
  assert.equal(again.status, 409);
  const error = await errorOf(again);
  assert.equal(error.code, "conflict");
  assert.match(error.message, /already finished with status "cancelled"/);
});

Deno.test("`createHandler()` GET /metrics answers Prometheus text", async () => {
  const { call, manager } = setup();
  await manager.submit({ name: "Ada" });
  const response = await call("/metrics");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.match(await response.text(), /^pipedreamer_runs_total\{status="running"\} 1$/m);
});

Deno.test("`createHandler()` answers unknown routes 404, wrong methods 405 with Allow", async () => {
  const { call } = setup();
  const unknown = await call("/nope");
  assert.equal(unknown.status, 404);
  assert.equal((await errorOf(unknown)).code, "not_found");
  for (
    const [method, path, allow] of [
      ["DELETE", "/runs", "GET, POST, HEAD"],
      ["PUT", "/run", "GET, POST, HEAD"],
      ["POST", "/health", "GET, HEAD"],
      ["GET", "/runs/x/cancel", "POST"],
      ["PATCH", "/runs/x", "GET, HEAD"],
    ] as const
  ) {
    const response = await call(path, { method });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get("allow"), allow);
    assert.equal((await errorOf(response)).code, "method_not_allowed");
  }
  const options = await call("/runs", { method: "OPTIONS" });
  assert.equal(options.status, 204);
  assert.equal(options.headers.get("allow"), "GET, POST, HEAD");
});

Deno.test("`createHandler()` answers HEAD like GET without a body", async () => {
  const { call } = setup();
  const response = await call("/health", { method: "HEAD" });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^application\/json/);
  assert.equal(response.body, null);
  const get = new TextEncoder().encode(await (await call("/health")).text());
  assert.equal(response.headers.get("content-length"), String(get.length));
  const missing = await call("/runs/nope", { method: "HEAD" });
  assert.equal(missing.status, 404);
  const missingGet = new TextEncoder().encode(await (await call("/runs/nope")).text());
  assert.equal(missing.headers.get("content-length"), String(missingGet.length));
});

Deno.test("`createHandler()` serves GET / from the dashboard hook without auth, else 404", async () => {
  const without = setup();
  const missing = await without.call("/", { token: null });
  assert.equal(missing.status, 401, "no dashboard: / is an ordinary (protected) unknown route");
  await missing.body?.cancel();
  assert.equal((await without.call("/")).status, 404);
  const { call } = setup({
    dashboard: (request) =>
      new URL(request.url).pathname === "/" ? new Response("<h1>runs</h1>") : undefined,
  });
  const page = await call("/", { token: null });
  assert.equal(page.status, 200);
  assert.equal(await page.text(), "<h1>runs</h1>");
  const other = await call("/app.js");
  assert.equal(other.status, 404);
  await other.body?.cancel();
});
