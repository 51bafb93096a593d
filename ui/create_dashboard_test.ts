import assert from "node:assert/strict";
import type { RunRecord } from "../engine/mod.ts";
import { createDashboard, type DashboardRunEvent } from "./create_dashboard.ts";
import { DIAMOND } from "./testdata/_workflows.ts";

const BASE = "http://127.0.0.1:8080";
const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${BASE}${path}`, { headers });

/** What server/'s authenticator throws: an error with status, code and headers. */
class Denied extends Error {
  status = 401;
  code = "unauthorized";
  headers = { "www-authenticate": 'Bearer realm="pipedreamer"' };
}

const authenticate = (request: Request) =>
  Promise.resolve().then(() => {
    if (request.headers.get("authorization") !== "Bearer good") {
      throw new Denied(
        "Cannot authenticate: send the API token as `Authorization: Bearer <token>`",
      );
    }
  });

Deno.test("`createDashboard()` serves the page shell with a strict CSP and no inline script", async () => {
  const dashboard = createDashboard({ workflow: () => DIAMOND });
  for (const path of ["/", "/index.html"]) {
    const response = await dashboard(get(path));
    assert.ok(response);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    const page = await response.text();
    assert.match(page, /<script type="module" src="assets\/app\.js\?v=[0-9a-f]{16}"><\/script>/);
    assert.match(page, /<meta name="pipedreamer-api" content="\.\/">/);
    assert.doesNotMatch(page, /\{\{/, "a placeholder was left in the page");
    assert.doesNotMatch(page, /<script>/, "inline scripts break the CSP");
  }
});

Deno.test("`createDashboard()` serves the embedded assets with ETags and answers 304", async () => {
  const dashboard = createDashboard({ workflow: () => DIAMOND });
  const table = [
    ["/assets/app.js", "text/javascript; charset=utf-8", /mountRunPage|function/],
    ["/assets/app.css", "text/css; charset=utf-8", /\.node-box/],
  ] as const;
  for (const [path, type, content] of table) {
    const response = await dashboard(get(path));
    assert.ok(response, path);
    assert.equal(response.headers.get("content-type"), type);
    assert.match(await response.text(), content);
    const etag = response.headers.get("etag");
    assert.match(etag ?? "", /^"[0-9a-f]{16}"$/);
    const again = await dashboard(get(path, { "if-none-match": etag! }));
    assert.equal(again?.status, 304);
    assert.equal(await again?.text(), "");
  }
});

Deno.test("`createDashboard()` leaves other paths and methods to the API", async () => {
  const dashboard = createDashboard({ workflow: () => DIAMOND });
  for (const path of ["/runs", "/assets/nope.js", "/api/nope", "/api/events", "/favicon.ico"]) {
    assert.equal(await dashboard(get(path)), undefined, path);
  }
  assert.equal(await dashboard(new Request(`${BASE}/`, { method: "POST" })), undefined);
});

Deno.test("`createDashboard()` mounts below basePath and finds the API at the root", async () => {
  const dashboard = createDashboard({ workflow: () => DIAMOND, basePath: "/ops/ui/" });
  assert.equal(await dashboard(get("/")), undefined);
  const redirect = await dashboard(get("/ops/ui"));
  assert.equal(redirect?.status, 308);
  assert.equal(redirect?.headers.get("location"), "/ops/ui/");
  const page = await (await dashboard(get("/ops/ui/")))!.text();
  assert.match(page, /<meta name="pipedreamer-api" content="\.\.\/\.\.\/">/);
  assert.equal((await dashboard(get("/ops/ui/assets/app.css")))?.status, 200);
  assert.equal((await dashboard(get("/ops/ui/api/workflow")))?.status, 200);
});

Deno.test("`createDashboard()` rejects a basePath without slashes and a negative heartbeat", () => {
  for (const basePath of ["ui", "/ui", "ui/", "/a b/"]) {
    assert.throws(() => createDashboard({ workflow: () => DIAMOND, basePath }), TypeError);
  }
  assert.throws(() => createDashboard({ workflow: () => DIAMOND, heartbeatMs: -1 }), RangeError);
});

Deno.test("`createDashboard()` answers api/workflow with the description of the current workflow", async () => {
  let workflow = DIAMOND;
  const dashboard = createDashboard({ workflow: () => workflow });
  const response = await dashboard(get("/api/workflow"));
  assert.equal(response?.status, 200);
  const info = await response!.json();
  assert.equal(info.name, "diamond");
  assert.equal(info.codeHash, DIAMOND.codeHash);
  assert.equal(info.layout.nodes.length, 5);
  workflow = { ...DIAMOND, version: "9.9.9" };
  assert.equal((await (await dashboard(get("/api/workflow")))!.json()).version, "9.9.9");
});

Deno.test("`createDashboard()` keeps data behind authenticate but not the page", async () => {
  const dashboard = createDashboard({
    workflow: () => DIAMOND,
    authenticate,
    subscribe: () => () => {},
  });
  assert.equal((await dashboard(get("/")))?.status, 200);
  assert.equal((await dashboard(get("/assets/app.js")))?.status, 200);
  for (const path of ["/api/workflow", "/api/events"]) {
    const denied = await dashboard(get(path));
    assert.equal(denied?.status, 401, path);
    assert.equal(denied?.headers.get("www-authenticate"), 'Bearer realm="pipedreamer"');
    const body = await denied!.json();
    assert.equal(body.error.code, "unauthorized");
    assert.ok(!JSON.stringify(body).includes("diamond"), "data leaked into the 401");
  }
  const allowed = await dashboard(get("/api/workflow", { authorization: "Bearer good" }));
  assert.equal(allowed?.status, 200);
});

Deno.test("`createDashboard()` lets an unexpected authenticate failure propagate", async () => {
  const dashboard = createDashboard({
    workflow: () => DIAMOND,
    authenticate: () => Promise.reject(new Error("database down")),
  });
  await assert.rejects(() => dashboard(get("/api/workflow")), { message: "database down" });
});

Deno.test("`createDashboard()` streams run changes of every run on api/events until aborted", async () => {
  const listeners = new Set<(event: DashboardRunEvent) => void>();
  const shutdown = new AbortController();
  const dashboard = createDashboard({
    workflow: () => DIAMOND,
    subscribe: (runId, listener) => {
      assert.equal(runId, "*");
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    signal: shutdown.signal,
    heartbeatMs: 0,
  });
  const response = await dashboard(get("/api/events"));
  assert.equal(response?.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = response!.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const readUntil = async (needle: string) => {
    while (!text.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${needle}: ${text}`);
      text += value;
    }
  };
  await readUntil("retry: 1000\n\n");
  assert.equal(listeners.size, 1);
  const record: RunRecord = {
    runId: "r1",
    workflow: "diamond",
    version: "2.1.0",
    status: "succeeded",
    input: {},
    nodes: { fetch: { status: "succeeded", attempts: 1, output: "secret-ish" } },
  };
  const { nodes: _nodes, ...summary } = record;
  for (const listener of listeners) {
    listener({ type: "run", record: { ...summary, status: "running" } });
    listener({ type: "node" });
    listener({ type: "log" });
    listener({ type: "end", record });
  }
  await readUntil('"succeeded"');
  const frames = text.split("\n\n").filter((f) => f.startsWith("event:"));
  assert.deepEqual(frames, [
    `event: run\ndata: ${JSON.stringify({ ...summary, status: "running" })}`,
    `event: run\ndata: ${JSON.stringify(summary)}`,
  ]);
  shutdown.abort();
  assert.equal((await reader.read()).done, true);
  assert.equal(listeners.size, 0, "the stream did not unsubscribe");
});

Deno.test("`createDashboard()` unsubscribes when the client goes away", async () => {
  let subscribed = 0;
  const dashboard = createDashboard({
    workflow: () => DIAMOND,
    subscribe: () => {
      subscribed++;
      return () => subscribed--;
    },
    heartbeatMs: 0,
  });
  const response = await dashboard(get("/api/events"));
  assert.equal(subscribed, 1);
  await response!.body!.cancel();
  assert.equal(subscribed, 0);
});
