/**
 * A stand-in for `pipedreamer serve` behind the fake API server's service proxy, until the
 * real server exists: `GET /health`, `POST /run` (waits; 200 with a succeeded run record, 422
 * with a failed one when the input has `"fail": true`) and `POST /runs` (202 `{ runId }`),
 * all requiring the engine token in `X-Pipedreamer-Token` or `Authorization: Bearer`.
 *
 * Tests get the backend from {@link engineBackend}; switching to the real engine means making
 * that function start `pipedreamer serve <dir> --port 0 --token-file <file>` and return its URL.
 *
 * @module
 */

import type { RunRecord } from "../../engine/mod.ts";
import type { FakeKube, ServiceBackend } from "./mod.ts";

/** What the stub knows about the deployment it stands in for. */
export interface StubTarget {
  /** The deployed workflow's version (e.g. read from the fake's Deployment). */
  version(): string;
  /** The token the engine was deployed with. */
  token(): string | undefined;
}

/** Requests the stub served. */
export interface StubCall {
  path: string;
  input: unknown;
  authorization?: string;
}

/** A run-record server standing in for `pipedreamer serve`. */
export function stubEngine(
  name: string,
  target: StubTarget,
  calls: StubCall[] = [],
): ServiceBackend {
  let seq = 0;
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/health") return Response.json({ status: "ok" });
    const token = target.token();
    const sent = req.headers.get("x-pipedreamer-token") ??
      req.headers.get("authorization")?.replace(/^Bearer /, "");
    const text = await req.text();
    calls.push({
      path: url.pathname,
      input: text ? JSON.parse(text) : undefined,
      authorization: req.headers.get("authorization") ?? undefined,
    });
    if (!token || sent !== token) return Response.json({ error: "unauthorized" }, { status: 401 });
    const input = text ? JSON.parse(text) : null;
    const runId = `run-${++seq}`;
    if (req.method === "POST" && url.pathname === "/runs") {
      return Response.json({ runId }, { status: 202 });
    }
    if (req.method !== "POST" || url.pathname !== "/run") {
      return Response.json({ error: "not found" }, { status: 404 });
    }
    const failed = (input as { fail?: boolean } | null)?.fail === true;
    const record: RunRecord = {
      runId,
      workflow: name,
      version: target.version(),
      status: failed ? "failed" : "succeeded",
      input,
      ...(failed
        ? { error: { node: "greet", message: "asked to fail" } }
        : { result: { echo: input } }),
      startedAt: "2025-01-01T00:00:00.000Z",
      finishedAt: "2025-01-01T00:00:00.005Z",
      durationMs: 5,
      nodes: { greet: { status: failed ? "failed" : "succeeded", attempts: 1, durationMs: 5 } },
    };
    return Response.json(record, { status: failed ? 422 : 200 });
  };
}

/**
 * The backend of a workflow deployed to `kube`: for now the {@link stubEngine}, reading the
 * deployed version and token from the fake cluster.
 */
export function engineBackend(
  kube: FakeKube,
  namespace: string,
  name: string,
  calls: StubCall[] = [],
): ServiceBackend {
  return stubEngine(name, {
    version: () =>
      String(
        kube.get("apps/v1", "Deployment", namespace, name)?.metadata.annotations
          ?.["pipedreamer.dev/version"] ?? "",
      ),
    token: () => {
      const data = kube.get("v1", "Secret", namespace, `${name}-token`)?.data as
        | Record<string, string>
        | undefined;
      return data?.token ? atob(data.token) : undefined;
    },
  }, calls);
}
