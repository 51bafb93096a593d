/**
 * `ctx.k8s` for the commands that run nodes (`exec`, `test`, and `dev`/`serve` through the
 * same factory): k8s's transports (the kubeconfig or the in-cluster service account, or a
 * fixture's mock), restricted to each node's `capabilities.k8s` rules. The engine only sees
 * the resulting `K8sAccess`; the credentials stay in this process, outside every sandbox.
 *
 * @module
 */

import type { Command } from "commander";
import type { CompiledNode, K8sAccess, K8sHostTransport } from "../engine/mod.ts";
import type * as K8s from "../k8s/mod.ts";
import { globalOptions } from "./_output.ts";

/** Where a pod's service account namespace is mounted. */
export const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** Options of {@link nodeK8sNamespace}. */
export interface NodeK8sNamespaceOptions {
  /** The in-cluster namespace file. @default SERVICE_ACCOUNT_NAMESPACE */
  serviceAccountNamespace?: string;
}

/**
 * The namespace of `ctx.k8s` (where `scope: namespace` rules apply): `-n` when given, else
 * the pod's own namespace in a cluster, else "default".
 */
export function nodeK8sNamespace(
  command: Command,
  options: NodeK8sNamespaceOptions = {},
): string {
  const globals = globalOptions(command);
  if (command.getOptionValueSourceWithGlobals("namespace") !== "default") {
    return globals.namespace;
  }
  try {
    const own = Deno.readTextFileSync(
      options.serviceAccountNamespace ?? SERVICE_ACCOUNT_NAMESPACE,
    ).trim();
    if (own !== "") return own;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return globals.namespace;
}

/** Options of {@link nodeK8sAccess}. */
export interface NodeK8sAccessOptions {
  /** `ctx.k8s.namespace`. @default nodeK8sNamespace(command) */
  namespace?: string;
  /** The real API, made on first use. @default createK8sTransport({ context: --context }) */
  live?: () => K8sHostTransport;
}

/**
 * The `ctx.k8s` factory of a command: a node gets `base` (a fixture's mock) or else the real
 * API (loaded once, on the first call that needs it), guarded by its own rules. k8s/ (with
 * @kubernetes/client-node, ~0.25 s and ~65 MiB) is imported on a node's first `ctx.k8s` call,
 * so a process whose nodes never call it never loads it. A missing kubeconfig or malformed
 * rules reject that node's calls (failing the node unless it catches them), not the command.
 *
 * @throws {TypeError} from the transport's calls: no kubeconfig, unknown context, bad rules.
 * @example
 * ```ts
 * const k8s = nodeK8sAccess(command);
 * await executeRun(workflow, { runner, k8s: (node) => k8s(node) });
 * ```
 */
export function nodeK8sAccess(
  command: Command,
  options: NodeK8sAccessOptions = {},
): (node: CompiledNode, base?: K8sHostTransport) => K8sAccess {
  const namespace = options.namespace ?? nodeK8sNamespace(command);
  const context = globalOptions(command).context[0];
  let k8s: Promise<typeof K8s> | undefined;
  let live: K8sHostTransport | undefined;
  const real = (mod: typeof K8s) =>
    live ??= (options.live ?? (() => mod.createK8sTransport({ context })))();
  return (node, base) => {
    let guarded: Promise<K8sHostTransport> | undefined;
    const transport: K8sHostTransport = async (request) => {
      guarded ??= (k8s ??= import("../k8s/mod.ts")).then((mod) =>
        mod.guardK8sTransport(base ?? real(mod), node.capabilities.k8s, namespace)
      );
      return await (await guarded)(request);
    };
    return { namespace, transport };
  };
}
