/**
 * The canary operations' side that talks to the engines (through the API server's service
 * proxy, with the engine token): the live engine's GET /canary (what it forwards, both run
 * counts) and the canary's /metrics (is it idle), and the status of a running canary.
 *
 * @module
 */

import { systemClock } from "../engine/mod.ts";
import { CANARY_KEY } from "./_canary_manifests.ts";
import { ANNOTATION_VERSION, HTTP_PORT_NAME, objectNames } from "./_labels.ts";
import type { KubeObject } from "./_manifest_context.ts";
import { resourcePath } from "./_resources.ts";
import type { RolloutOptions } from "./apply.ts";
import { existingToken } from "./deploy.ts";
import type { KubeClient } from "./kube_client.ts";
import { TOKEN_HEADER } from "./run_deployed.ts";

/** Options of the canary operations. */
export interface CanaryOptions {
  /**
   * Wait for the canary's rollout and for the live engine to see the switch (the kubelet
   * refreshes a mounted ConfigMap within about a minute). @default true
   */
  wait?: boolean;
  rollout?: RolloutOptions;
  onProgress?: (message: string) => void;
}

/** Run counts of one engine (GET /canary of the live engine). */
export interface EngineRunCounts {
  finished: Record<string, number>;
  total: number;
  failed: number;
  failureRate: number | null;
}

/** `status` of a running canary. */
export interface CanaryStatus {
  version: string;
  image: string;
  percent?: number;
  ready: boolean;
  replicas: { desired: number; ready: number };
  /** New runs each side received since the canary started (the live engine's count). */
  routed?: { live: number; canary: number };
  /** Finished runs of each engine since it started, with failure rates. */
  runs?: { live: EngineRunCounts; canary: EngineRunCounts | { error: string } };
  /** Why the counts are missing. */
  error?: string;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    template: { spec: { containers: { image: string; args?: string[] }[] } };
  };
  status?: { readyReplicas?: number };
}

export const deploymentPath = (namespace: string, name: string) =>
  resourcePath("apps/v1", "Deployment", namespace, name);

/** The running canary's Deployment, or undefined. */
export async function runningCanary(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<Deployment | undefined> {
  return await client.get<Deployment>(
    deploymentPath(namespace, objectNames(name, namespace).canary),
  );
}

export function versionOf(o: KubeObject): string {
  return o.metadata.annotations?.[ANNOTATION_VERSION] ?? "?";
}

/** GET an engine path through the API server's service proxy, with the engine token. */
async function engineGet(
  client: KubeClient,
  service: string,
  namespace: string,
  path: string,
  token: string,
): Promise<{ status: number; text: string }> {
  const res = await client.request(
    "GET",
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${
      encodeURIComponent(service)
    }:${HTTP_PORT_NAME}/proxy${path}`,
    { headers: { [TOKEN_HEADER]: token }, timeoutMs: 10_000 },
  );
  return { status: res.status, text: await res.text() };
}

async function tokenOf(client: KubeClient, name: string, namespace: string): Promise<string> {
  const token = await existingToken(client, name, namespace);
  if (token === undefined) {
    throw new Error(`Cannot reach the engine of "${name}": Secret "${name}-token" is missing`);
  }
  return token;
}

/** Polls until `check` holds, within the rollout timeout. */
async function until(
  what: string,
  options: CanaryOptions,
  check: () => Promise<string | true>,
): Promise<void> {
  const clock = options.rollout?.clock ?? systemClock;
  const timeoutMs = options.rollout?.timeoutMs ?? 300_000;
  const start = clock.now();
  let last = "";
  for (;;) {
    const state = await check();
    if (state === true) return;
    if (state !== last) options.onProgress?.(`${what}: ${state}`);
    last = state;
    if (clock.now() - start > timeoutMs) {
      throw new Error(`Cannot wait any longer for ${what} (${state})`);
    }
    await clock.sleep(options.rollout?.pollMs ?? 1_000, options.rollout?.signal);
  }
}

/** Waits until the live engine reports this canary (or none, for `want` null). */
export async function untilLiveSees(
  client: KubeClient,
  name: string,
  namespace: string,
  want: { version: string; percent: number } | null,
  options: CanaryOptions,
): Promise<void> {
  const token = await tokenOf(client, name, namespace);
  await until("the live engine to read the canary switch", options, async () => {
    const { status, text } = await engineGet(client, name, namespace, "/canary", token);
    if (status !== 200) return `it answered ${status}`;
    const seen = (JSON.parse(text) as { canary: { version: string; percent: number } | null })
      .canary;
    if (
      want === null
        ? seen === null
        : seen?.version === want.version && seen.percent === want.percent
    ) {
      return true;
    }
    return seen
      ? `it still forwards ${seen.percent}% to ${seen.version}`
      : "it forwards nothing yet";
  });
}

/** Waits until the canary runs nothing (in flight or queued). */
export async function untilCanaryIdle(
  client: KubeClient,
  name: string,
  namespace: string,
  options: CanaryOptions,
): Promise<void> {
  const token = await tokenOf(client, name, namespace);
  const service = objectNames(name, namespace).canary;
  await until("the canary to finish its runs", options, async () => {
    const { status, text } = await engineGet(client, service, namespace, "/metrics", token);
    // No ready canary pod: nothing runs there.
    if (status === 503 || status === 404) return true;
    if (status !== 200) return `it answered ${status}`;
    let busy = 0;
    for (const line of text.split("\n")) {
      const m = /^pipedreamer_(runs_in_flight|queue_depth)\{[^}]*\}\s+(\S+)/.exec(line);
      if (m) busy += Number(m[2]);
    }
    return busy === 0 ? true : `${busy} runs in flight or queued`;
  });
}

/** The running canary and both engines' counts, or undefined when none runs. */
export async function canaryStatus(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<CanaryStatus | undefined> {
  const canary = await runningCanary(client, name, namespace);
  if (!canary) return undefined;
  const names = objectNames(name, namespace);
  const toggle = await client.get<KubeObject & { data?: Record<string, string> }>(
    resourcePath("v1", "ConfigMap", namespace, names.canary),
  );
  let percent: number | undefined;
  try {
    percent = (JSON.parse(toggle?.data?.[CANARY_KEY] ?? "{}") as { percent?: number }).percent;
  } catch {
    percent = undefined;
  }
  const desired = canary.spec.replicas ?? 1;
  const ready = canary.status?.readyReplicas ?? 0;
  const out: CanaryStatus = {
    version: versionOf(canary),
    image: canary.spec.template.spec.containers[0]?.image ?? "",
    percent,
    ready: ready >= desired,
    replicas: { desired, ready },
  };
  try {
    const token = await tokenOf(client, name, namespace);
    const { status, text } = await engineGet(client, name, namespace, "/canary", token);
    if (status !== 200) {
      out.error = `the live engine answered ${status}: ${text.slice(0, 200)}`;
      return out;
    }
    const body = JSON.parse(text) as {
      canary: { routed: { live: number; canary: number } } | null;
      runs: { live: EngineRunCounts; canary?: EngineRunCounts | { error: string } };
    };
    if (body.canary) out.routed = body.canary.routed;
    else out.error = "the live engine does not forward to the canary (yet)";
    const { live, canary: counts } = body.runs;
    if (counts) out.runs = { live, canary: counts };
  } catch (error) {
    out.error = (error as Error).message;
  }
  return out;
}
