/**
 * `ctx.k8s` in fixture runs: the fixture's `"k8s"` list answered by the Kubernetes mock the
 * caller injects (the engine does not know Kubernetes), with the calls it could not answer
 * recorded so the fixture fails naming them, as for `"fetch"`.
 *
 * @module
 */

import { NodeFailure } from "./errors.ts";
import type { Fixture } from "./_fixture_file.ts";
import type { CompiledNode, K8sAccess, K8sHostTransport } from "./types.ts";

/** The `ctx.k8s` options of `runFixtures()` (see `RunFixturesOptions`). */
export interface FixtureK8sOptions {
  live?: boolean;
  k8sMock?: (entries: unknown[]) => K8sHostTransport;
  k8s?: (node: CompiledNode, mock: K8sHostTransport | undefined) => K8sAccess | undefined;
}

/** `ctx.k8s` of one fixture run, and the calls no entry answered (`GET /api/v1/nodes`). */
export interface FixtureK8s {
  k8s: (node: CompiledNode) => K8sAccess | undefined;
  unmatched: string[];
}

/** A call as fixtures name it, query decoded: `GET /api/v1/pods?fieldSelector=a!=b`. */
function describeCall(method: unknown, path: string): string {
  const i = path.indexOf("?");
  const query = i < 0
    ? ""
    : `?${[...new URLSearchParams(path.slice(i + 1))].map(([k, v]) => `${k}=${v}`).join("&")}`;
  return `${String(method).toUpperCase()} ${i < 0 ? path : path.slice(0, i)}${query}`;
}

function defaultAccess(
  _node: CompiledNode,
  mock: K8sHostTransport | undefined,
): K8sAccess | undefined {
  return mock && { namespace: "default", transport: mock };
}

/**
 * The fixture's "k8s" list through `options.k8sMock` (a rejection of the mock is an unmatched
 * call), handed to `options.k8s` per node.
 *
 * @throws {TypeError} when the fixture has a "k8s" list but there is no `k8sMock` (not live)
 */
export function fixtureK8s(fixture: Fixture, options: FixtureK8sOptions): FixtureK8s {
  const unmatched: string[] = [];
  let mock: K8sHostTransport | undefined;
  if (!options.live && options.k8sMock) {
    const answer = options.k8sMock(fixture.k8s ?? []);
    mock = async (request) => {
      try {
        return await answer(request);
      } catch (error) {
        const name = describeCall(request.method, request.path);
        if (!unmatched.includes(name)) unmatched.push(name);
        // The fixture decides the answer: a retry would get the same one.
        throw new NodeFailure(error instanceof Error ? error.message : String(error), {
          nonRetryable: true,
          cause: error,
        });
      }
    };
  } else if (!options.live && (fixture.k8s?.length ?? 0) > 0) {
    throw new TypeError(
      `Cannot use the fixture's "k8s" list: the fixture runner has no Kubernetes mock; ` +
        "pass the k8sMock option of runFixtures()",
    );
  }
  const give = options.k8s ?? defaultAccess;
  return { k8s: (node) => give(node, mock), unmatched };
}
