/**
 * `logs <name>`: the engine's log from every pod of a workflow, each line prefixed with its
 * pod, optionally following all of them at once.
 *
 * @module
 */

import { engineSelector, selectorString } from "./_labels.ts";
import type { KubeObject } from "./_manifest_context.ts";
import { resourcePath } from "./_resources.ts";
import { ENGINE_CONTAINER } from "./_deployment.ts";
import { apiError, type KubeClient } from "./kube_client.ts";

/** Options of {@link streamLogs}. */
export interface LogsOptions {
  /** Keep streaming new lines. @default false */
  follow?: boolean;
  /** Only the last N lines of each pod. @default undefined (everything) */
  tailLines?: number;
  /** Receives each line with the pod it came from. */
  onLine: (pod: string, line: string) => void;
  /** Receives per-pod problems (e.g. a container still waiting to start). @default undefined */
  onNotice?: (pod: string, message: string) => void;
  /** Stops following. @default undefined */
  signal?: AbortSignal;
}

/**
 * Streams the logs of every engine pod of `name`; resolves when every stream ended (at once
 * without `follow`; when the pods go away or `signal` aborts with it).
 *
 * @throws {Error} "Cannot show logs …" when the workflow has no pods.
 * @example
 * ```ts
 * await streamLogs(client, "hello", "default", { tailLines: 50, onLine: (pod, l) => console.log(pod, l) });
 * ```
 */
export async function streamLogs(
  client: KubeClient,
  name: string,
  namespace: string,
  options: LogsOptions,
): Promise<string[]> {
  const pods = await client.list<KubeObject>(resourcePath("v1", "Pod", namespace), {
    labelSelector: selectorString(engineSelector(name)),
  });
  if (pods.length === 0) {
    throw new Error(
      `Cannot show logs of "${name}": it has no pods in namespace "${namespace}"; see \`pipedreamer status ${name}\``,
    );
  }
  const names = pods.map((p) => p.metadata.name).sort();
  const one = (pod: string) => podLog(client, namespace, pod, options);
  if (options.follow) await Promise.all(names.map(one));
  else for (const pod of names) await one(pod);
  return names;
}

async function podLog(
  client: KubeClient,
  namespace: string,
  pod: string,
  options: LogsOptions,
): Promise<void> {
  const path = `${resourcePath("v1", "Pod", namespace, pod)}/log`;
  const res = await client.request("GET", path, {
    query: {
      container: ENGINE_CONTAINER,
      follow: options.follow ? "true" : undefined,
      tailLines: options.tailLines,
    },
    streaming: options.follow,
    signal: options.signal,
  });
  if (res.status !== 200) {
    const error = apiError("GET", path, res.status, await res.text());
    if (res.status === 400 && options.onNotice) return options.onNotice(pod, error.message);
    throw error;
  }
  const body = res.stream();
  if (!body) return;
  let rest = "";
  const reader = body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .getReader();
  const stop = () => reader.cancel().catch(() => {});
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((error) => {
        if (options.signal?.aborted) return { done: true, value: undefined };
        throw error;
      });
      if (done) break;
      rest += value;
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) options.onLine(pod, line);
    }
    if (rest !== "") options.onLine(pod, rest);
  } finally {
    options.signal?.removeEventListener("abort", stop);
  }
}
