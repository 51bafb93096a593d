/**
 * What the fake API server's handlers share: its state, request targets and RBAC denials.
 *
 * @module
 */

import type { Controllers } from "./_controller.ts";
import type { LogStore } from "./_logs.ts";
import type { FakeResource } from "./_resources.ts";
import type { Store } from "./_store.ts";

/** An RBAC denial: every field that is set must match. */
export interface DenyRule {
  verb?: string;
  /** Plural resource, with `/subresource` (e.g. `services/proxy`, `pods/log`). */
  resource?: string;
  group?: string;
  namespace?: string;
}

/** Where a Service's traffic goes: a URL or an in-process handler. */
export type ServiceBackend = string | ((request: Request) => Response | Promise<Response>);

/** A request the fake received (for assertions). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  headers: Record<string, string>;
}

/** Everything the handler works on. */
export interface HandlerState {
  token: string;
  user: string;
  store: Store;
  controllers: Controllers;
  logs: LogStore;
  denials: DenyRule[];
  backends: Map<string, ServiceBackend>;
  requests: RecordedRequest[];
  /** Called after each request is recorded. */
  onRequest?: () => void;
}

/** A resolved request target. */
export interface Target {
  res: FakeResource;
  namespace?: string;
  name?: string;
  subresource?: string;
  rest: string[];
}

/** True when a deny rule matches the request attributes. */
export function isDenied(
  denials: DenyRule[],
  a: { verb: string; resource: string; group: string; namespace?: string },
): boolean {
  return denials.some((d) =>
    (d.verb === undefined || d.verb === a.verb) &&
    (d.resource === undefined || d.resource === a.resource) &&
    (d.group === undefined || d.group === a.group) &&
    (d.namespace === undefined || d.namespace === a.namespace)
  );
}
