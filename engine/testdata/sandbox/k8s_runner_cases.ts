/**
 * The `ctx.k8s` tests every runner of module nodes passes (worker and in-process): calls go to
 * the call's host transport and come back the same way in both. Registered by each runner's
 * own test file, next to runner_cases.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FailureKind, NodeFailure } from "../../errors.ts";
import type {
  K8sAccess,
  K8sHostRequest,
  K8sHostResponse,
  NodeRunner,
} from "../../runner_protocol.ts";
import { callOf, moduleNode, workflowOf } from "./helpers.ts";
import type { RunnerFactory } from "./runner_cases.ts";

async function failureOf(promise: Promise<unknown>): Promise<NodeFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NodeFailure, `expected a NodeFailure, got ${error}`);
    return error;
  }
  assert.fail("expected the attempt to fail");
}

/** A transport answering from `answer`, recording every request it got. */
function recording(
  answer: (request: K8sHostRequest) => Promise<K8sHostResponse> | K8sHostResponse,
  namespace = "team-a",
): K8sAccess & { requests: K8sHostRequest[] } {
  const requests: K8sHostRequest[] = [];
  return {
    namespace,
    requests,
    transport: async (request) => {
      requests.push(request);
      return await answer(request);
    },
  };
}

const notFound = {
  kind: "Status",
  status: "Failure",
  message: 'pods "x" not found',
  reason: "NotFound",
  code: 404,
};

/** Registers the shared `ctx.k8s` runner tests under `name`, e.g. "createWorkerRunner()". */
export function k8sRunnerCases(name: string, create: RunnerFactory): void {
  const test = (title: string, fn: (runner: NodeRunner) => Promise<void>) =>
    Deno.test(`\`${name}\` ${title}`, async () => {
      const runner = create({ graceMs: 100 });
      try {
        await fn(runner);
      } finally {
        await runner.close();
      }
    });
  const never = () => new AbortController().signal;
  const workflow = workflowOf([
    moduleNode("k8s", "k8s_calls", { k8s: [{ resources: ["pods"], verbs: ["list"] }] }),
    moduleNode("plain", "k8s_calls"),
  ]);

  test("sends ctx.k8s calls to the host transport and returns its answers", async (runner) => {
    const access = recording((request) =>
      request.method === "POST"
        ? { status: 201, body: { created: request.body } }
        : { status: 200, body: { items: [{ metadata: { name: "web-1" } }] } }
    );
    const t = callOf(workflow, "k8s", {
      k8s: access,
      input: {
        calls: [
          { op: "get", path: "/api/v1/nodes" },
          {
            op: "list",
            path: "/api/v1/namespaces/team-a/pods",
            selectors: { labelSelector: "app=web", fieldSelector: "status.phase!=Failed" },
          },
          { op: "request", method: "post", path: "/api/v1/namespaces", body: { a: [1] } },
        ],
      },
    });
    const { output } = await runner.run(t.call, never());
    const items = [{ metadata: { name: "web-1" } }];
    assert.deepEqual(output, {
      namespace: "team-a",
      keys: ["get", "list", "namespace", "request"],
      results: [
        { value: { items } },
        { value: items },
        { value: { status: 201, body: { created: { a: [1] } } } },
      ],
    });
    assert.deepEqual(access.requests, [
      { method: "GET", path: "/api/v1/nodes" },
      {
        method: "GET",
        path: "/api/v1/namespaces/team-a/pods?labelSelector=app%3Dweb&" +
          "fieldSelector=status.phase%21%3DFailed",
      },
      { method: "POST", path: "/api/v1/namespaces", body: { a: [1] } },
    ]);
  });

  test("gives no ctx.k8s to a call without Kubernetes access", async (runner) => {
    const { output } = await runner.run(
      callOf(workflow, "plain", { input: { calls: [] } }).call,
      never(),
    );
    assert.deepEqual(output, { k8s: "absent", keyInCtx: false });
  });

  test("maps non-2xx answers of get() and list() to errors with status and reason", async (runner) => {
    const access = recording((request) => {
      if (request.path.startsWith("/api/v1/namespaces/a/pods/x")) {
        return { status: 404, body: notFound };
      }
      if (request.path === "/api/v1/broken") return { body: "no status" } as never;
      if (request.path === "/api/v1/throws") throw new Error("transport exploded");
      return { status: 503, body: "overloaded" };
    });
    const t = callOf(workflow, "k8s", {
      k8s: access,
      input: {
        calls: [
          { op: "get", path: "/api/v1/namespaces/a/pods/x" },
          { op: "list", path: "/api/v1/pods" },
          { op: "request", method: "GET", path: "/api/v1/namespaces/a/pods/x" },
          { op: "get", path: "/api/v1/broken" },
          { op: "get", path: "/api/v1/throws" },
          { op: "get", path: "api/v1/nodes" },
        ],
      },
    });
    const { output } = await runner.run(t.call, never());
    const error = (
      name: string,
      message: string,
      extra: { status?: number; reason?: string; nonRetryable?: boolean } = {},
    ) => ({
      error: {
        name,
        message,
        status: extra.status,
        reason: extra.reason,
        nonRetryable: extra.nonRetryable ?? false,
      },
    });
    // Outputs cross the sandbox as JSON: keys holding undefined are dropped.
    const plain = (value: unknown) => JSON.parse(JSON.stringify(value));
    assert.deepEqual(
      plain((output as { results: unknown[] }).results),
      plain([
        error(
          "K8sApiError",
          'Cannot get /api/v1/namespaces/a/pods/x: 404 NotFound: pods "x" not found',
          {
            status: 404,
            reason: "NotFound",
            nonRetryable: true,
          },
        ),
        error("K8sApiError", "Cannot get /api/v1/pods: 503: overloaded", {
          status: 503,
          reason: "",
        }),
        { value: { status: 404, body: notFound } },
        error(
          "TypeError",
          "Cannot call the Kubernetes API: GET /api/v1/broken got no HTTP status from the " +
            "engine's Kubernetes transport",
        ),
        error("Error", "transport exploded"),
        error(
          "TypeError",
          'Cannot call the Kubernetes API: path "api/v1/nodes" must be an API server path ' +
            'starting with "/", e.g. "/api/v1/namespaces/default/pods"',
        ),
      ]),
    );
    // The bad path never left the node.
    assert.equal(access.requests.length, 5);
  });

  test("fails the attempt with the API's message, not retryable for a 403", async (runner) => {
    const access = recording(() => ({
      status: 403,
      body: { kind: "Status", message: "secrets is forbidden", reason: "Forbidden" },
    }));
    const t = callOf(workflow, "k8s", {
      k8s: access,
      input: { rethrow: true, calls: [{ op: "list", path: "/api/v1/secrets" }] },
    });
    const failure = await failureOf(runner.run(t.call, never()));
    assert.equal(
      failure.message,
      "Cannot get /api/v1/secrets: 403 Forbidden: secrets is forbidden",
    );
    assert.equal(failure.kind, FailureKind.Error);
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.remoteName, "K8sApiError");
  });

  test("fails a call the host transport denies as a capability failure", async (runner) => {
    const hint = "k8s: [{ resources: [secrets], verbs: [list] }]";
    const access = recording(() =>
      Promise.reject(
        new NodeFailure(`Cannot list secrets: not granted by capabilities.k8s; add ${hint}`, {
          kind: FailureKind.Capability,
          capability: hint,
        }),
      )
    );
    const t = callOf(workflow, "k8s", {
      k8s: access,
      input: { rethrow: true, calls: [{ op: "list", path: "/api/v1/secrets" }] },
    });
    const failure = await failureOf(runner.run(t.call, never()));
    assert.equal(failure.kind, FailureKind.Capability);
    assert.equal(failure.capability, hint);
    assert.equal(failure.nonRetryable, true);
    assert.equal(
      failure.message,
      `Cannot list secrets: not granted by capabilities.k8s; add ${hint}`,
    );
  });

  test("rejects a ctx.k8s call in flight when the attempt is cancelled", async (runner) => {
    let reached!: () => void;
    const asked = new Promise<void>((resolve) => reached = resolve);
    const access = recording(() => {
      reached();
      return new Promise<never>(() => {});
    });
    const t = callOf(workflow, "k8s", {
      k8s: access,
      input: { rethrow: true, calls: [{ op: "get", path: "/api/v1/nodes" }] },
    });
    const controller = new AbortController();
    const pending = runner.run(t.call, controller.signal);
    await asked;
    controller.abort(new DOMException("The run was cancelled", "AbortError"));
    // No clock is advanced: the attempt ends because the node's call rejected, not by grace.
    const failure = await failureOf(pending);
    assert.equal(failure.kind, FailureKind.Cancelled);
    assert.equal(failure.message, 'Cannot run node "k8s": attempt 1 was cancelled');
  });
}
