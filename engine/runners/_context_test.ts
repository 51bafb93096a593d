import assert from "node:assert/strict";
import { type ContextOptions, createContext, serviceUrl, toResponse } from "./_context.ts";
import type { LogLine } from "../run_record.ts";

Deno.test("`serviceUrl()` joins the base URL and the path, keeping the query", () => {
  const services = {
    slack: "https://hooks.slack.com",
    api: "https://x.test/api/",
    github: "http://127.0.0.1:8123",
  };
  const cases: [string, string, string][] = [
    ["slack", "/services/T0/B0", "https://hooks.slack.com/services/T0/B0"],
    ["api", "v1/items?page=2&q=a%20b", "https://x.test/api/v1/items?page=2&q=a%20b"],
    ["api", "/v1/items", "https://x.test/api/v1/items"],
    ["api", "", "https://x.test/api"],
    ["api", "?q=1", "https://x.test/api?q=1"],
    ["github", "/user/repos", "http://127.0.0.1:8123/user/repos"],
    ["anthropic", "/v1/messages", "https://api.anthropic.com/v1/messages"],
    ["GitLab", "/projects?per_page=5", "https://api.gitlab.com/projects?per_page=5"],
  ];
  for (const [service, path, expected] of cases) {
    assert.equal(serviceUrl(services, service, path), expected, `${service} ${path}`);
  }
});

Deno.test("`serviceUrl()` rejects absolute URLs and service names that are no host", () => {
  const cases: [string, string, RegExp][] = [
    ["github", "https://evil.test/steal", /path "https:\/\/evil\.test\/steal" must be relative/],
    ["github", "//evil.test/steal", /must be relative to the service's base URL/],
    ["my service", "/x", /"my service": it is not declared in services: and is not a host name/],
    ["a_b", "/x", /^Cannot fetch from service "a_b": it is not declared/],
  ];
  for (const [service, path, message] of cases) {
    assert.throws(() => serviceUrl({}, service, path), { name: "TypeError", message });
  }
  // Object.prototype keys are not declared services.
  assert.equal(serviceUrl({}, "toString", "/x"), "https://api.tostring.com/x");
});

Deno.test("`toResponse()` rebuilds a real Response from a mocked one", async () => {
  const cases = [
    { info: { status: 200, body: "plain" }, type: "text/plain;charset=UTF-8", text: "plain" },
    { info: { status: 201, body: { ok: true } }, type: "application/json", text: '{"ok":true}' },
    { info: { status: 200, body: null }, type: "application/json", text: "null" },
    {
      info: { status: 404, headers: { "content-type": "text/x" }, body: [1] },
      type: "text/x",
      text: "[1]",
    },
    { info: { status: 204, body: { ignored: true } }, type: null, text: "" },
    { info: { status: 500 }, type: null, text: "" },
  ];
  for (const { info, type, text } of cases) {
    const response = toResponse(info);
    assert.equal(response.status, info.status);
    assert.equal(response.headers.get("content-type"), type);
    assert.equal(await response.text(), text);
  }
  assert.throws(() => toResponse({ status: 99 }), {
    name: "RangeError",
    message: "Cannot build a mocked response: status 99 is not in 200-599",
  });
});

function contextWith(overrides: Partial<ContextOptions> = {}) {
  const requests: Request[] = [];
  const logs: LogLine[] = [];
  const controller = new AbortController();
  const { ctx, routes } = createContext({
    runId: "run-1",
    node: "n",
    attempt: 1,
    config: {},
    secrets: {},
    tmpDir: "/tmp/x",
    signal: controller.signal,
    services: {},
    children: [],
    onLog: (line) => logs.push(line),
    fetch: (request) => {
      requests.push(request);
      return Promise.resolve(new Response("ok"));
    },
    ...overrides,
  });
  return { ctx, routes, requests, logs, controller };
}

Deno.test("`createContext()` ctx.fetch injects auth from the service's secret only", async () => {
  const { ctx, requests } = contextWith({
    secrets: {
      github: { token: "t0ken", api_key: "k3y!" },
      plain: "just-a-string",
      other: { token: "x" },
    },
  });
  await ctx.fetch("github", "/a");
  await ctx.fetch("plain", "/b");
  await ctx.fetch("gitlab", "/c");
  const auth = requests.map((r) => [r.headers.get("authorization"), r.headers.get("x-api-key")]);
  assert.deepEqual(auth, [["Bearer t0ken", "k3y!"], [null, null], [null, null]]);
});

Deno.test("`createContext()` ctx.fetch keeps auth headers the node sets itself", async () => {
  const { ctx, requests } = contextWith({
    secrets: { github: { token: "t0ken", api_key: "k3y!" } },
  });
  await ctx.fetch("github", "/a", { headers: { Authorization: "Basic abc", "X-Api-Key": "mine" } });
  assert.equal(requests[0]?.headers.get("authorization"), "Basic abc");
  assert.equal(requests[0]?.headers.get("x-api-key"), "mine");
});

Deno.test("`createContext()` ctx.fetch follows ctx.signal and the node's own signal", async () => {
  const { ctx, requests, controller } = contextWith();
  const own = new AbortController();
  await ctx.fetch("github", "/a", { signal: own.signal });
  await ctx.fetch("github", "/b");
  own.abort(new Error("mine"));
  assert.deepEqual(requests.map((r) => r.signal.aborted), [true, false]);
  controller.abort(new DOMException("t", "TimeoutError"));
  assert.equal(requests[1]?.signal.aborted, true);
  assert.equal((requests[1]?.signal.reason as DOMException).name, "TimeoutError");
});

Deno.test("`createContext()` ctx.log writes tagged lines with JSON-safe fields", () => {
  const { ctx, logs } = contextWith();
  ctx.log.warn("slow", { ms: 12, error: new RangeError("too far"), big: 10n });
  ctx.log.debug("no fields");
  const [first, second] = logs.map(({ ts: _ts, ...line }) => line);
  assert.equal(first?.fields?.big, "10");
  assert.deepEqual((first?.fields?.error as { name: string; message: string }).message, "too far");
  assert.deepEqual({ ...first, fields: undefined }, {
    level: "warn",
    msg: "slow",
    runId: "run-1",
    node: "n",
    attempt: 1,
    fields: undefined,
  });
  assert.deepEqual(second, {
    level: "debug",
    msg: "no fields",
    runId: "run-1",
    node: "n",
    attempt: 1,
  });
});

Deno.test("`createContext()` ctx.route collects declared children and rejects others", () => {
  const { ctx, routes } = contextWith({ children: ["a", "b"] });
  assert.equal(routes(), undefined);
  ctx.route("b");
  ctx.route("a", "b");
  assert.deepEqual(routes(), ["b", "a"]);
  const leaf = contextWith();
  assert.throws(() => leaf.ctx.route("a"), {
    name: "TypeError",
    message:
      'Cannot route from node "n" to "a": it has no children; add an edge { from: n, to: a } ' +
      "to workflow.yaml",
  });
});

Deno.test("`createContext()` ctx.progress reports finite numbers only", () => {
  const reports: [number, string | undefined][] = [];
  const { ctx } = contextWith({ onProgress: (value, message) => reports.push([value, message]) });
  ctx.progress(0.25);
  ctx.progress(3, "of 10");
  assert.deepEqual(reports, [[0.25, undefined], [3, "of 10"]]);
  assert.throws(() => ctx.progress(NaN), {
    name: "TypeError",
    message: /value NaN is not a finite/,
  });
  assert.throws(() => ctx.progress(1, 2 as unknown as string), { name: "TypeError" });
});
