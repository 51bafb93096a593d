/**
 * The image end-to-end set-up shared by tests/build_e2e_test.ts and
 * tests/image_containment_e2e_test.ts: docker-registry on loopback, a base image made from this
 * host's libraries, the probe workflow's image built and pushed by the CLI (once per test
 * file), unpacked as an OCI runtime bundle; and the engine's `serve` started in it under runc
 * or runsc.
 *
 * @module
 */

import { join } from "node:path";
import type { BuildImageResult } from "../builder/mod.ts";
import { assertExit, cli, ROOT, stdoutJson } from "./_cli.ts";
import {
  assertTools,
  type ContainerRuntime,
  type ContainerSpecOptions,
  findTool,
  pushHostBaseImage,
  run,
  runtimeArgs,
  startRegistry,
  type TestRegistry,
  writeContainerSpec,
} from "../builder/testdata/oci_tools.ts";

export const PROBE = `${ROOT}/builder/testdata/probe-workflow`;
export const BUILD_TOOLS = ["docker-registry", "skopeo", "umoci"];

/** What `build -o json` prints. */
export type BuildJson = Pick<BuildImageResult, "image" | "digest" | "layers" | "bundle" | "pushed">;

/** `build` of the probe workflow onto the fixture's base, pushed to its registry, then `extra`. */
export function probeBuildArgs(registryHost: string, ...extra: string[]): string[] {
  return [
    "build",
    PROBE,
    "--base",
    `${registryHost}/test/base:1`,
    "-r",
    `${registryHost}/e2e`,
    "--push",
    "--insecure-registry",
    ...extra,
    "-o",
    "json",
  ];
}

/** A registry with the base image and the probe workflow's image, built once per file. */
export interface Fixture {
  registry: TestRegistry;
  work: string;
  build: BuildJson;
  /** The image's entrypoint, as skopeo reads it from the config. */
  entrypoint: string[];
  /** The bundle's files: the ConfigMap, mounted read-only at /app/workflow. */
  bundleDir: string;
  /** An OCI runtime bundle (umoci unpack) of the pushed image. */
  containerDir: string;
}

let fixture: Promise<Fixture> | undefined;
export function imageFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    assertTools([...BUILD_TOOLS, "runc"]);
    const registry = await startRegistry();
    const work = await Deno.makeTempDir({ prefix: "pipedreamer-build-e2e-" });
    // Synchronous cleanup at exit: the fixture outlives the test that made it.
    globalThis.addEventListener("unload", () => {
      registry.stopSync();
      Deno.removeSync(work, { recursive: true });
    });
    await pushHostBaseImage(registry.host, "test/base", "1");
    const bundleDir = join(work, "bundle");
    const result = await cli(probeBuildArgs(registry.host, "--bundle-out", bundleDir));
    assertExit(result, 0);
    const build = stdoutJson<BuildJson>(result);
    const config = JSON.parse(
      (await run("skopeo", [
        "inspect",
        "--config",
        "--tls-verify=false",
        `docker://${build.image}`,
      ])).stdout,
    ) as { config: { Entrypoint: string[] } };
    const layout = join(work, "layout");
    await run("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${build.image}`,
      `oci:${layout}:probe`,
    ]);
    const containerDir = join(work, "container");
    await run("umoci", ["unpack", "--image", `${layout}:probe`, containerDir]);
    return { registry, work, build, entrypoint: config.config.Entrypoint, bundleDir, containerDir };
  })();
  return fixture;
}

/** The engine's `serve` running in a container. */
export interface ServeContainer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The container's stderr so far (complete once it exited). */
  stderr(): string;
  /** Kills and deletes the container. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `<entrypoint> serve /app/workflow` in the fixture's container under `runtime` on a
 * free loopback port, and resolves once GET /health answers 200 (as a kubelet's readiness
 * probe); fails with the container's stderr when it never does.
 */
export async function startServeContainer(
  runtime: ContainerRuntime,
  spec: Omit<ContainerSpecOptions, "args">,
): Promise<ServeContainer> {
  const { entrypoint, containerDir } = await imageFixture();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await writeContainerSpec(containerDir, {
    ...spec,
    args: [...entrypoint, "serve", "/app/workflow", "--port", String(port), "--host", "127.0.0.1"],
  });
  const stateDir = await Deno.makeTempDir();
  const id = `pd-serve-${runtime}-${crypto.randomUUID().slice(0, 8)}`;
  const child = new Deno.Command(findTool(runtime)!, {
    args: runtimeArgs(runtime, stateDir, containerDir, id),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const container: ServeContainer = {
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    async [Symbol.asyncDispose]() {
      await new Deno.Command(findTool(runtime)!, {
        args: ["--root", stateDir, "kill", id, "KILL"],
        stderr: "null",
      }).output();
      await status;
      await drained;
      await new Deno.Command(findTool(runtime)!, {
        args: ["--root", stateDir, "delete", "--force", id],
        stderr: "null",
      }).output();
      await Deno.remove(stateDir, { recursive: true });
    },
  };
  const deadline = Date.now() + 60_000;
  let health = 0;
  while (health !== 200 && !exited && Date.now() < deadline) {
    health = await fetch(`${container.url}/health`).then(
      async (r) => (await r.body?.cancel(), r.status),
      () => 0,
    );
    // A readiness probe, as the kubelet's: the condition is /health itself.
    if (health !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  if (health !== 200) {
    await container[Symbol.asyncDispose]();
    throw new Error(`${runtime}: /health never answered 200; container stderr:\n${stderr}`);
  }
  return container;
}
