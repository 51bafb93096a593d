import assert from "node:assert/strict";
import { parseRoute, type Route, routeHref } from "./route.ts";

Deno.test("`parseRoute()` reads every page from the location hash", () => {
  const table: [string, Route][] = [
    ["", { page: "runs" }],
    ["#", { page: "runs" }],
    ["#/", { page: "runs" }],
    ["#/runs", { page: "runs" }],
    ["#/?status=failed", { page: "runs", status: "failed" }],
    ["#/?status=failed&cursor=abc%3D", { page: "runs", status: "failed", cursor: "abc=" }],
    [
      "#/?q=0b9f&since=2025-01-01&until=2025-01-31",
      { page: "runs", q: "0b9f", since: "2025-01-01", until: "2025-01-31" },
    ],
    ["#/runs/r-1", { page: "run", runId: "r-1" }],
    ["#/runs/r-1/nodes/fetch%20it", { page: "run", runId: "r-1", node: "fetch it" }],
    ["#/workflow", { page: "workflow" }],
    ["#/workflow/nodes/a", { page: "workflow", node: "a" }],
    ["#/runs/r-1/logs", { page: "notFound", path: "/runs/r-1/logs" }],
    ["#/nope", { page: "notFound", path: "/nope" }],
    ["#/runs/%E0%A4%A", { page: "notFound", path: "/runs/%E0%A4%A" }],
  ];
  for (const [hash, route] of table) assert.deepEqual(parseRoute(hash), route, hash);
});

Deno.test("`routeHref()` is the inverse of `parseRoute()`", () => {
  const routes: Route[] = [
    { page: "runs" },
    { page: "runs", status: "running" },
    { page: "runs", status: "failed", cursor: "a/b+c=" },
    { page: "runs", status: "failed", q: "a b&c", since: "2025-01-01", cursor: "x" },
    { page: "run", runId: "0b9f/1" },
    { page: "run", runId: "r", node: "n?x" },
    { page: "workflow" },
    { page: "workflow", node: "fetch" },
  ];
  for (const route of routes) assert.deepEqual(parseRoute(routeHref(route)), route);
  assert.equal(routeHref({ page: "runs" }), "#/");
  assert.equal(routeHref({ page: "run", runId: "r1", node: "a" }), "#/runs/r1/nodes/a");
});
