/**
 * Hash routes of the dashboard, so the server serves one page and links survive reloads:
 * `#/` (runs, optionally `?status=failed&q=<run id prefix>&since=<day>&until=<day>&cursor=…`), `#/runs/<id>` (optionally
 * `/nodes/<node>`), `#/workflow` (optionally `/nodes/<node>`).
 *
 * @module
 */

/** The runs list's search: a run id prefix and a range of local days ("2025-01-31"). */
export interface RunsSearch {
  q?: string;
  since?: string;
  until?: string;
}

/** Where the dashboard is. */
export type Route =
  | { page: "runs"; status?: string; cursor?: string } & RunsSearch
  | { page: "run"; runId: string; node?: string }
  | { page: "workflow"; node?: string }
  | { page: "notFound"; path: string };

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/**
 * The route of a location hash ("#/runs/abc").
 *
 * @example
 * ```ts
 * parseRoute("#/runs/r1/nodes/fetch"); // { page: "run", runId: "r1", node: "fetch" }
 * ```
 */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, "");
  const [pathPart = "", queryPart = ""] = text.split("?", 2);
  const path = pathPart === "" ? "/" : pathPart;
  const parts = path.split("/").filter((p) => p !== "").map(decode);
  if (parts.some((p) => p === undefined || p === "")) return { page: "notFound", path };
  const [first, second, third, fourth, ...rest] = parts as string[];
  if (first === undefined) {
    const query = new URLSearchParams(queryPart);
    const route: Route = { page: "runs" };
    const status = query.get("status");
    const cursor = query.get("cursor");
    if (status) route.status = status;
    if (cursor) route.cursor = cursor;
    for (const name of ["q", "since", "until"] as const) {
      const value = query.get(name);
      if (value) route[name] = value;
    }
    return route;
  }
  if (first === "runs" && second === undefined) return { page: "runs" };
  if (first === "runs" && rest.length === 0) {
    if (third === undefined) return { page: "run", runId: second! };
    if (third === "nodes" && fourth !== undefined) {
      return { page: "run", runId: second!, node: fourth };
    }
  }
  if (first === "workflow" && rest.length === 0 && fourth === undefined) {
    if (second === undefined) return { page: "workflow" };
    if (second === "nodes" && third !== undefined) return { page: "workflow", node: third };
  }
  return { page: "notFound", path };
}

/** The location hash of `route` (the inverse of {@link parseRoute}). */
export function routeHref(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case "runs": {
      const query = new URLSearchParams();
      if (route.status) query.set("status", route.status);
      for (const name of ["q", "since", "until"] as const) {
        if (route[name]) query.set(name, route[name]!);
      }
      if (route.cursor) query.set("cursor", route.cursor);
      const q = query.toString();
      return q === "" ? "#/" : `#/?${q}`;
    }
    case "run":
      return `#/runs/${e(route.runId)}${route.node === undefined ? "" : `/nodes/${e(route.node)}`}`;
    case "workflow":
      return `#/workflow${route.node === undefined ? "" : `/nodes/${e(route.node)}`}`;
    case "notFound":
      return `#${route.path}`;
  }
}
