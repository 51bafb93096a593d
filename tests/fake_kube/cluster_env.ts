/**
 * The set-up of the cluster end-to-end tests: fake API servers, a kubeconfig with one context
 * each, a temp dir, and the real CLI in a subprocess pointed at them (`KUBECONFIG`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FakeKube, type FakeKubeOptions, kubeconfigYaml, startFakeKube } from "./mod.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** What a CLI subprocess did. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fake clusters, their kubeconfig and a temp dir; `close()` (or `await using`) ends it all. */
export interface FakeClusterEnv extends AsyncDisposable {
  /** The first (current) cluster. */
  kube: FakeKube;
  /** Every cluster, in context order. */
  kubes: FakeKube[];
  tmp: string;
  kubeconfig: string;
  /** Runs `pipedreamer <args>` against the kubeconfig. */
  cli(...args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

/** Options of {@link fakeCluster}. */
export interface FakeClusterOptions {
  /** The clusters, contexts `fake-0`, `fake-1`, …; default one new fake, context `fake`. */
  kubes?: FakeKube[];
  /** Options of the fake started when `kubes` is not given. @default {} */
  kube?: FakeKubeOptions;
  /** Namespace of the (first) context. @default undefined */
  contextNamespace?: string;
  /** Temp dir prefix. @default "pd-k8s-e2e-" */
  prefix?: string;
}

/**
 * Fake clusters with a kubeconfig in a temp dir.
 *
 * @example
 * ```ts
 * await using env = await fakeCluster({ contextNamespace: "team" });
 * ok(await env.cli("deploy", dir, "--image", image), "deploy");
 * ```
 */
export async function fakeCluster(options: FakeClusterOptions = {}): Promise<FakeClusterEnv> {
  const kubes = options.kubes ?? [await startFakeKube(options.kube)];
  const names = options.kubes ? kubes.map((_, i) => `fake-${i}`) : ["fake"];
  const tmp = await Deno.makeTempDir({ prefix: options.prefix ?? "pd-k8s-e2e-" });
  const kubeconfig = join(tmp, "kubeconfig");
  await Deno.writeTextFile(
    kubeconfig,
    kubeconfigYaml(kubes.map((fake, i) => ({
      name: names[i]!,
      fake,
      namespace: i === 0 ? options.contextNamespace : undefined,
    }))),
  );
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      for (const fake of kubes) await fake.close();
      await Deno.remove(tmp, { recursive: true });
    })();
  return {
    kube: kubes[0]!,
    kubes,
    tmp,
    kubeconfig,
    cli: (...args) => pipedreamerCli(kubeconfig, args),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `pipedreamer <args>` from source in a subprocess, with `KUBECONFIG` set. */
export async function pipedreamerCli(kubeconfig: string, args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-all",
      "--unstable-worker-options",
      "--config",
      join(ROOT, "deno.json"),
      join(ROOT, "main.ts"),
      ...args,
    ],
    env: { KUBECONFIG: kubeconfig, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Copies a directory tree. */
export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(join(from, entry.name), join(to, entry.name));
    else await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

/** Asserts the command succeeded, showing its output when not. */
export function ok(result: CliResult, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * Turns the hello-k8s test workflow in `dir` into version 1.1.0 with a changed greeting; with
 * `secret`, its `.secrets.yaml` gets `slack.token: <secret>`.
 */
export async function bumpVersion(dir: string, secret?: string): Promise<void> {
  const yaml = await Deno.readTextFile(join(dir, "workflow.yaml"));
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    yaml.replace('version: "1.0.0"', 'version: "1.1.0"'),
  );
  const node = await Deno.readTextFile(join(dir, "nodes/greet.ts"));
  await Deno.writeTextFile(
    join(dir, "nodes/greet.ts"),
    node.replace("${input?.name", "dear ${input?.name"),
  );
  if (secret !== undefined) {
    await Deno.writeTextFile(join(dir, ".secrets.yaml"), `slack:\n  token: ${secret}\n`);
  }
}
