/**
 * The engine behind the fake API server's service proxy: a real `pipedreamer serve` process,
 * started the way the fake cluster's Deployment says. Like a kubelet, it writes the pod's
 * volumes (the versioned code ConfigMap, the runtime config ConfigMap, the token Secret,
 * emptyDirs) to a temp dir, points the container args' mount paths there and runs those args
 * (`serve /app/workflow --token-file /app/token/token … --cron external`) through the CLI from
 * source. A changed pod template or volume (a deploy, a rollback, a new runtime config) starts
 * a new process, so requests reach the version the fake cluster says is deployed.
 *
 * What a real pod has and this does not: its own network (the process listens on 127.0.0.1
 * with `--port 0`), the container's env (its HOME and DENO_DIR would empty the test's Deno
 * cache), and mounts at paths `serve` reads without a flag: `/app/config` becomes
 * `--config-dir <dir>` and `/app/secrets` `--secrets-dir <dir>`.
 *
 * @module
 */

import { join } from "node:path";
import { type ServeProcess, startServe } from "../_serve.ts";
import type { FakeKube } from "./mod.ts";

/** A request the engine was sent through the proxy. */
export interface EngineCall {
  path: string;
  input: unknown;
  /** The Authorization header the engine received (the proxy drops the caller's). */
  authorization?: string;
}

interface Volume {
  name: string;
  configMap?: { name: string; optional?: boolean; items?: KeyToPath[] };
  secret?: { secretName: string; optional?: boolean; items?: KeyToPath[] };
  projected?: { sources: { secret?: { name: string; items?: KeyToPath[] } }[] };
  emptyDir?: unknown;
  persistentVolumeClaim?: { claimName: string };
}
interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
interface Container {
  args?: string[];
  lifecycle?: unknown;
  volumeMounts?: { name: string; mountPath: string }[];
}

/** `serve` flags whose default is a mount path of the Deployment. */
const MOUNT_FLAGS: Record<string, string> = {
  "/app/config": "--config-dir",
  "/app/secrets": "--secrets-dir",
};

/** The `pipedreamer serve` of one deployed workflow (see the module docs). */
export class DeployedEngine {
  readonly calls: EngineCall[];
  readonly #kube: FakeKube;
  readonly #namespace: string;
  readonly #name: string;
  #running: { key: string; process: ServeProcess; dir: string; graceSeconds: number } | undefined;
  /** Persistent volumes by claim: they outlive pods, as a PVC's volume does. */
  readonly #claims = new Map<string, string>();
  #chain: Promise<unknown> = Promise.resolve();

  constructor(kube: FakeKube, namespace: string, name: string, calls: EngineCall[] = []) {
    this.#kube = kube;
    this.#namespace = namespace;
    this.#name = name;
    this.calls = calls;
  }

  /** The service proxy's backend: forwards each request to the current engine process. */
  readonly handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const body = req.method === "GET" || req.method === "HEAD"
      ? undefined
      : new Uint8Array(await req.arrayBuffer());
    const text = body ? new TextDecoder().decode(body) : "";
    this.calls.push({
      path: url.pathname,
      input: text ? JSON.parse(text) : undefined,
      authorization: req.headers.get("authorization") ?? undefined,
    });
    let engine: ServeProcess;
    try {
      engine = await this.#serial(() => this.#ensure());
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 503 });
    }
    const res = await fetch(`${engine.url}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  };

  /** Stops the engine process (SIGTERM: it drains) and removes its files and volumes. */
  close(): Promise<void> {
    return this.#serial(async () => {
      await this.#stop();
      for (const dir of this.#claims.values()) await Deno.remove(dir, { recursive: true });
      this.#claims.clear();
    });
  }

  /** The engine's stderr so far (what `kubectl logs` would show), or "" when none runs. */
  stderr(): string {
    return this.#running?.process.stderr() ?? "";
  }

  #serial<T>(body: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(body);
    this.#chain = result.catch(() => {});
    return result;
  }

  /** The engine of the current pod template, (re)started when the template or a volume changed. */
  async #ensure(): Promise<ServeProcess> {
    const deployment = this.#kube.get("apps/v1", "Deployment", this.#namespace, this.#name);
    if (!deployment) throw new Error(`Deployment "${this.#name}" does not exist`);
    const pod = (deployment.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const container = (pod.containers as Container[])[0]!;
    const volumes = (pod.volumes ?? []) as Volume[];
    // The process is the container of one running pod: a deleted pod's process stops, and the
    // replacement pod (once the controller made it) starts a new one.
    const selector = (deployment.spec as { selector: { matchLabels: Record<string, string> } })
      .selector.matchLabels;
    const running = this.#kube.list(
      "v1",
      "Pod",
      this.#namespace,
      Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(","),
    ).find((p) =>
      ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ??
        []).some((c) => c.type === "Ready" && c.status === "True")
    );
    if (!running) {
      await this.#stop();
      throw new Error(`no ready pod of Deployment "${this.#name}"`);
    }
    const key = JSON.stringify([
      running.metadata.name,
      container,
      volumes.map((v) => [v, this.#versionOf(v)]),
    ]);
    if (this.#running?.key === key) return this.#running.process;
    await this.#stop();
    const dir = await Deno.makeTempDir({ prefix: `pd-pod-${this.#name}-` });
    try {
      const mounts = new Map<string, string>();
      for (const [i, mount] of (container.volumeMounts ?? []).entries()) {
        const volume = volumes.find((v) => v.name === mount.name);
        if (!volume) throw new Error(`volume "${mount.name}" is not in the pod`);
        const local = join(dir, `volume-${i}`);
        await this.#write(volume, local);
        mounts.set(mount.mountPath, local);
      }
      const process = await startServe(argsFor(container.args ?? [], mounts));
      const graceSeconds = Number(pod.terminationGracePeriodSeconds ?? 30);
      this.#running = { key, process, dir, graceSeconds };
      return process;
    } catch (error) {
      await Deno.remove(dir, { recursive: true });
      throw error;
    }
  }

  async #stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    // Like the kubelet: SIGTERM, then SIGKILL once the pod's grace period is over.
    const kill = setTimeout(() => {
      try {
        running.process.child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }, running.graceSeconds * 1000);
    try {
      await running.process.stop("SIGTERM");
    } finally {
      clearTimeout(kill);
    }
    await Deno.remove(running.dir, { recursive: true });
  }

  /** The resourceVersions behind a volume: a changed ConfigMap or Secret is a new pod. */
  #versionOf(volume: Volume): unknown {
    const version = (kind: string, name: string) =>
      this.#kube.get("v1", kind, this.#namespace, name)?.metadata.resourceVersion ?? null;
    if (volume.configMap) return version("ConfigMap", volume.configMap.name);
    if (volume.persistentVolumeClaim) {
      return this.#kube.get(
        "v1",
        "PersistentVolumeClaim",
        this.#namespace,
        volume.persistentVolumeClaim.claimName,
      )?.metadata.uid ?? null;
    }
    if (volume.secret) return version("Secret", volume.secret.secretName);
    return volume.projected?.sources.map((s) => s.secret ? version("Secret", s.secret.name) : null);
  }

  /** Writes a volume's files as the kubelet would mount them. */
  async #write(volume: Volume, dir: string): Promise<void> {
    if (volume.persistentVolumeClaim) {
      // The claim's volume, the same directory for every pod of it (symlinked into the pod).
      const claim = volume.persistentVolumeClaim.claimName;
      const live = this.#kube.get("v1", "PersistentVolumeClaim", this.#namespace, claim);
      if ((live?.status as { phase?: string } | undefined)?.phase !== "Bound") {
        throw new Error(`PersistentVolumeClaim "${claim}" is not bound`);
      }
      const id = `${claim}/${live!.metadata.uid}`;
      let path = this.#claims.get(id);
      if (!path) {
        path = await Deno.makeTempDir({ prefix: `pd-pv-${claim}-` });
        this.#claims.set(id, path);
      }
      await Deno.symlink(path, dir);
      return;
    }
    await Deno.mkdir(dir, { recursive: true });
    const files = (kind: "ConfigMap" | "Secret", name: string, optional?: boolean) => {
      const object = this.#kube.get("v1", kind, this.#namespace, name) as
        | { data?: Record<string, string>; binaryData?: Record<string, string> }
        | undefined;
      if (!object) {
        if (optional) return new Map<string, Uint8Array>();
        throw new Error(`${kind} "${name}" of the pod does not exist`);
      }
      const out = new Map<string, Uint8Array>();
      for (const [k, v] of Object.entries(object.data ?? {})) {
        out.set(k, kind === "Secret" ? decodeBase64(v) : new TextEncoder().encode(v));
      }
      for (const [k, v] of Object.entries(object.binaryData ?? {})) out.set(k, decodeBase64(v));
      return out;
    };
    const place = async (data: Map<string, Uint8Array>, items: KeyToPath[] | undefined) => {
      const entries: KeyToPath[] = items ?? [...data.keys()].map((key) => ({ key, path: key }));
      for (const item of entries) {
        const bytes = data.get(item.key);
        if (!bytes) throw new Error(`key "${item.key}" of volume "${volume.name}" is missing`);
        const target = join(dir, item.path);
        await Deno.mkdir(join(target, ".."), { recursive: true });
        await Deno.writeFile(target, bytes, { mode: item.mode ?? 0o644 });
      }
    };
    if (volume.configMap) {
      const { name, optional, items } = volume.configMap;
      await place(files("ConfigMap", name, optional), items);
    } else if (volume.secret) {
      const { secretName, optional, items } = volume.secret;
      await place(files("Secret", secretName, optional), items);
    } else if (volume.projected) {
      for (const { secret } of volume.projected.sources) {
        if (secret) await place(files("Secret", secret.name), secret.items);
      }
    }
  }
}

/**
 * The container args with mount paths moved to their local directories, listening on an
 * ephemeral loopback port, and a flag for each mount `serve` would otherwise look for at its
 * default path.
 */
function argsFor(args: string[], mounts: Map<string, string>): string[] {
  const byLength = [...mounts].sort(([a], [b]) => b.length - a.length);
  const local = args.map((arg) => {
    const hit = byLength.find(([path]) => arg === path || arg.startsWith(`${path}/`));
    return hit ? `${hit[1]}${arg.slice(hit[0].length)}` : arg;
  });
  for (const [flag, value] of [["--host", "127.0.0.1"], ["--port", "0"]] as const) {
    const i = local.indexOf(flag);
    if (i >= 0) local[i + 1] = value;
    else local.push(flag, value);
  }
  for (const [path, flag] of Object.entries(MOUNT_FLAGS)) {
    const dir = mounts.get(path);
    if (dir !== undefined && !local.includes(flag)) local.push(flag, dir);
  }
  return local;
}

function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
