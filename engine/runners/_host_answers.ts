/**
 * The host's answers to what a sandbox worker asks on behalf of a node: a mocked `ctx.fetch`
 * (fixtures) and a `ctx.k8s` call. Both are answered here, outside the sandbox, so mocks and
 * Kubernetes credentials never enter it; only requests and answers cross.
 *
 * @module
 */

import { toRemoteError } from "./_attempt_failure.ts";
import { askK8sHost } from "./_k8s_api.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import type { FromWorker, ToWorker } from "./_worker_protocol.ts";
import type { NodeCall } from "../runner_protocol.ts";

type Asked<T extends FromWorker["t"]> = Extract<FromWorker, { t: T }>;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Answers a mocked `ctx.fetch` with the call's fetch mock. */
export function answerFetch(
  call: NodeCall,
  asked: Asked<"fetch">,
  post: (answer: ToWorker) => void,
): void {
  const { id, req } = asked;
  const mock = call.fetchMock;
  if (!mock) {
    post({ t: "fetched", id, req, error: "Cannot fetch: no fetch mock is set" });
    return;
  }
  mock(asked.request).then(
    (response) => post({ t: "fetched", id, req, response }),
    (error: unknown) => post({ t: "fetched", id, req, error: messageOf(error) }),
  ).catch((error: unknown) => {
    post({ t: "fetched", id, req, error: `Cannot fetch: bad mock response (${messageOf(error)})` });
  });
}

/**
 * Answers a `ctx.k8s` call with the call's transport. A failure goes back with its class
 * name, retryability and capability (a denial stays a capability failure), not its stack.
 */
export function answerK8s(
  call: NodeCall,
  asked: Asked<"k8s">,
  post: (answer: ToWorker) => void,
): void {
  const { id, req } = asked;
  const fail = (error: unknown) => {
    const { stack: _stack, ...remote } = toRemoteError(error);
    post({ t: "k8sAnswer", id, req, error: remote });
  };
  const access = call.k8s;
  if (!access) {
    // Only a node posting to the host itself gets here: ctx.k8s was never given to it.
    fail(
      new NodeFailure(
        `Cannot call the Kubernetes API: node "${call.node.id}" declares no capabilities.k8s`,
        { kind: FailureKind.Capability, capability: "k8s" },
      ),
    );
    return;
  }
  askK8sHost(access, asked.request)
    .then((response) => post({ t: "k8sAnswer", id, req, response }))
    .catch(fail);
}
