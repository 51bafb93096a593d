/**
 * `pipedreamer build` end to end, with real components: docker-registry on loopback, a base
 * image made from this host's libraries (umoci + skopeo), the CLI in a subprocess pushing the
 * image, skopeo inspecting it, and the unpacked image running under runc and runsc (gVisor)
 * as a non-root user with a read-only root and no capabilities.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, assertSnapshot, cli, stdoutJson, tempDir } from "./_cli.ts";
import {
  assertTools,
  ContainerRuntime,
  ignoreWithout,
  run,
  runContainer,
  writeContainerSpec,
} from "../builder/testdata/oci_tools.ts";
import {
  BUILD_TOOLS,
  type BuildJson,
  imageFixture,
  PROBE,
  probeBuildArgs,
  startServeContainer,
} from "./_image_fixture.ts";
import {
  assertNoSecret,
  CHILD_SECRET,
  expectedResult,
  PARENT_SECRETS,
  subWorkflowTree,
} from "./_sub_workflows.ts";

const shared = { sanitizeResources: false, sanitizeOps: false };

Deno.test("`pipedreamer build --help` documents every flag", async () => {
  const result = await cli(["build", "--help"]);
  assertExit(result, 0);
  for (
    const flag of [
      "--tag",
      "--push",
      "--platform",
      "--runtime-binary",
      "--base",
      "--out",
      "--bundle",
      "--bundle-out",
      "--insecure-registry",
      "--dockerfile",
      "--docker-config",
      "--registry",
      "--output",
    ]
  ) {
    assert.ok(result.stdout.includes(flag), `--help lacks ${flag}`);
  }
  await assertSnapshot("help_build", result.stdout);
});

Deno.test("`pipedreamer build --platform linux/arm64` without --runtime-binary is a usage error that says what to pass", async () => {
  const result = await cli(["build", PROBE, "--platform", "linux/arm64", "--out", "x.tar"]);
  assertExit(result, 2);
  assert.match(
    result.stderr,
    /Cannot build for "linux\/arm64" on this linux\/amd64 host without --runtime-binary: pass a linux\/arm64 pipedreamer \(deno compile --target aarch64-unknown-linux-gnu\) or a linux\/arm64 deno binary/,
  );
});

Deno.test("`pipedreamer build --dockerfile` alone writes the Dockerfile and its context, no image", async () => {
  await using dir = await tempDir();
  const result = await cli([
    "build",
    PROBE,
    "--dockerfile",
    join(dir.path, "Dockerfile"),
    "-o",
    "json",
  ]);
  assertExit(result, 0);
  assert.deepEqual(stdoutJson(result), {
    dockerfile: join(dir.path, "Dockerfile"),
    context: dir.path,
  });
  assert.match(
    await Deno.readTextFile(join(dir.path, "Dockerfile")),
    /^FROM --platform=linux\/amd64 gcr\.io\/distroless\/cc-debian12:nonroot$/m,
  );
  assert.ok((await Deno.stat(join(dir.path, ".pipedreamer-image/app/bin/deno"))).isFile);
});

Deno.test({
  name:
    "`pipedreamer build --push` pushes an image skopeo reads, and a rebuild has the same digest",
  ignore: ignoreWithout([...BUILD_TOOLS, "runc"], "build push e2e"),
  ...shared,
  async fn() {
    const { registry, build, entrypoint, work } = await imageFixture();
    assert.equal(build.image, `${registry.host}/e2e/probe-workflow:1.2.3`);
    assert.equal(build.pushed, true);
    assert.deepEqual([build.bundle.inConfigMap, build.bundle.inImage], [true, false]);
    const inspected = JSON.parse(
      (await run("skopeo", ["inspect", "--tls-verify=false", `docker://${build.image}`])).stdout,
    ) as { Digest: string; Layers: string[]; Labels: Record<string, string> };
    assert.equal(inspected.Digest, build.digest);
    assert.deepEqual(inspected.Layers, build.layers.map((l) => l.digest));
    assert.equal(inspected.Labels["io.pipedreamer.workflow.name"], "probe-workflow");
    assert.equal(inspected.Labels["io.pipedreamer.workflow.version"], "1.2.3");
    assert.equal(inspected.Labels["org.opencontainers.image.version"], "1.2.3");
    assert.equal(entrypoint[0], "/app/bin/deno");
    // deploy pins what was pushed by its digest.
    const record = JSON.parse(await Deno.readTextFile(join(PROBE, ".pipedreamer/build.json")));
    assert.deepEqual(record, { image: build.image, digest: build.digest, version: "1.2.3" });

    const again = await cli(probeBuildArgs(registry.host, "--out", join(work, "again.tar")));
    assertExit(again, 0);
    assert.deepEqual(stdoutJson<BuildJson>(again).layers, build.layers);
    assert.equal(stdoutJson<BuildJson>(again).digest, build.digest);
    // Progress went to stderr, and every blob was already there.
    assert.match(again.stderr, /already in the registry/);
    const archive = JSON.parse(
      (await run("skopeo", ["inspect", `oci-archive:${join(work, "again.tar")}`])).stdout,
    );
    assert.equal(archive.Digest, build.digest);
  },
});

/** Runs the image's engine (`exec`) and a container-level probe under `runtime`. */
async function runsSandboxed(runtime: ContainerRuntime): Promise<void> {
  const { entrypoint, bundleDir, containerDir } = await imageFixture();
  let hits = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => (hits++, new Response("pong")),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/probe`;
    const input = { name: runtime, url, path: "/app/workflow/hacked.txt" };
    await writeContainerSpec(containerDir, {
      args: [
        ...entrypoint,
        "exec",
        "/app/workflow",
        "-o",
        "json",
        "--input",
        JSON.stringify(input),
      ],
      binds: [{ source: bundleDir, destination: "/app/workflow" }],
    });
    const result = await runContainer(runtime, containerDir);
    assert.equal(
      result.code,
      0,
      `${runtime} exit ${result.code}\n${result.stderr}\n${result.stdout}`,
    );
    const record = JSON.parse(result.stdout) as {
      status: string;
      nodes: Record<string, { status: string; output?: unknown; error?: { message: string } }>;
      result: Record<string, unknown>;
    };
    assert.equal(record.status, "succeeded");
    assert.deepEqual(record.nodes.greet?.output, {
      yaml: `hello: ${runtime}\n`,
      parsed: { hello: runtime },
    });
    assert.equal(record.nodes["fetch-allowed"]?.output, "pong");
    assert.equal(record.nodes["fetch-denied"]?.status, "failed");
    assert.match(
      record.nodes["fetch-denied"]!.error!.message,
      /needs network access to "127\.0\.0\.1:\d+"/,
    );
    assert.equal(record.nodes["write-outside"]?.status, "failed");
    assert.match(
      record.nodes["write-outside"]!.error!.message,
      /writes "\/app\/workflow\/hacked\.txt" outside its temp dir/,
    );
    assert.equal(record.nodes.report?.status, "succeeded");
    // Only the node with the net capability reached the loopback server.
    assert.equal(hits, 1);
    await assert.rejects(Deno.stat(join(bundleDir, "hacked.txt")), Deno.errors.NotFound);

    // The container itself: uid 65532, no capabilities, read-only root, writable /tmp only.
    const probe = `
      const status = Deno.readTextFileSync("/proc/self/status");
      const field = (name) => status.match(new RegExp("^" + name + ":\\\\s*(\\\\S+)", "m"))?.[1];
      const attempt = (path) => { try { Deno.writeTextFileSync(path, "x"); return "written"; } catch (e) { return e.message; } };
      console.log(JSON.stringify({
        uid: Deno.uid(), gid: Deno.gid(), capEff: field("CapEff"), capPrm: field("CapPrm"),
        noNewPrivs: field("NoNewPrivs"), root: attempt("/probe.txt"), app: attempt("/app/bin/probe.txt"),
        home: attempt("/home/nonroot/probe.txt"),
        tmp: attempt("/tmp/probe.txt"),
      }));`;
    await writeContainerSpec(containerDir, { args: ["/app/bin/deno", "eval", "--quiet", probe] });
    const probed = await runContainer(runtime, containerDir);
    assert.equal(probed.code, 0, `${runtime} probe exit ${probed.code}\n${probed.stderr}`);
    const facts = JSON.parse(probed.stdout);
    assert.equal(facts.uid, 65532);
    assert.equal(facts.gid, 65532);
    assert.equal(facts.capEff, "0000000000000000");
    assert.equal(facts.capPrm, "0000000000000000");
    assert.equal(facts.tmp, "written");
    // Root-owned paths are refused (EACCES or EROFS, whichever the kernel checks first); the
    // user's own home proves the root filesystem itself is read-only.
    assert.match(facts.root, /Read-only file system|Permission denied/);
    assert.match(facts.app, /Read-only file system|Permission denied/);
    assert.match(facts.home, /Read-only file system/);
    // gVisor's /proc/self/status has no NoNewPrivs line; the kernel's (runc) must say 1.
    if (runtime === ContainerRuntime.Runc) assert.equal(facts.noNewPrivs, "1");
  } finally {
    await server.shutdown();
  }
}

Deno.test({
  name:
    "the built image runs a workflow under runc: sandboxed nodes, non-root, read-only root, no capabilities",
  ignore: ignoreWithout([...BUILD_TOOLS, "runc"], "runc e2e"),
  ...shared,
  fn: () => runsSandboxed(ContainerRuntime.Runc),
});

Deno.test({
  name: "the built image runs a workflow under runsc (gVisor, --network=host): the same guarantees",
  ignore: ignoreWithout([...BUILD_TOOLS, "runc", "runsc"], "runsc e2e"),
  ...shared,
  async fn() {
    assertTools(["runsc"]);
    await runsSandboxed(ContainerRuntime.Runsc);
  },
});

/** Whether the CLI has the `serve` command yet (issue 3). */
async function hasServe(): Promise<boolean> {
  const help = await cli(["--help"]);
  return /^\s+serve\b/m.test(help.stdout);
}

const serveMissing = !(await hasServe());
if (serveMissing) {
  console.warn(
    "IGNORED `serve` /health in the image: the CLI has no `serve` command yet (issue 3); " +
      "this test runs, under CI too, as soon as `pipedreamer --help` lists it",
  );
}

Deno.test({
  name:
    "the image's default command `serve /app/workflow` answers GET /health under runc and runsc",
  ignore: serveMissing || ignoreWithout([...BUILD_TOOLS, "runc", "runsc"], "serve e2e"),
  ...shared,
  async fn() {
    assertTools([...BUILD_TOOLS, "runc", "runsc"]);
    const { bundleDir } = await imageFixture();
    for (const runtime of [ContainerRuntime.Runc, ContainerRuntime.Runsc]) {
      await using container = await startServeContainer(runtime, {
        binds: [{ source: bundleDir, destination: "/app/workflow" }],
        env: ["PIPEDREAMER_TOKEN=e2e-token"],
      });
      const health = await fetch(`${container.url}/health`);
      assert.equal(health.status, 200, container.stderr());
      await health.body?.cancel();
    }
  },
});

/** The sub-workflow tree's image (bundle baked in), unpacked, and its secrets mount. */
let subFixture: Promise<{ containerDir: string; secretsDir: string; entrypoint: string[] }>;
function subWorkflowImage() {
  subFixture ??= (async () => {
    const { registry, work, entrypoint } = await imageFixture();
    const tree = await subWorkflowTree();
    globalThis.addEventListener("unload", () => Deno.removeSync(tree.root, { recursive: true }));
    const archive = join(work, "sub.tar");
    const result = await cli([
      "build",
      tree.parent,
      "--base",
      `${registry.host}/test/base:1`,
      "--insecure-registry",
      "--bundle",
      "image",
      "--out",
      archive,
      "-o",
      "json",
    ]);
    assertExit(result, 0);
    assert.ok(stdoutJson<BuildJson>(result).bundle.files.includes("_workflows/leaf/upper.js"));
    const layout = join(work, "sub-layout");
    await run("skopeo", ["copy", `oci-archive:${archive}`, `oci:${layout}:sub`]);
    const containerDir = join(work, "sub-container");
    await run("umoci", ["unpack", "--image", `${layout}:sub`, containerDir]);
    // What deploy mounts at /app/secrets: the top workflow's services, and the child's own
    // under .workflows/<its bundle directory>/ (tests/k8s_sub_workflows_e2e_test.ts).
    const secretsDir = join(work, "sub-secrets");
    const files: Record<string, string> = {
      parent: PARENT_SECRETS[0]!,
      child: PARENT_SECRETS[1]!,
      ".workflows/_workflows/child/child": CHILD_SECRET,
    };
    for (const [path, token] of Object.entries(files)) {
      await Deno.mkdir(join(secretsDir, path, ".."), { recursive: true, mode: 0o755 });
      await Deno.writeTextFile(join(secretsDir, path), JSON.stringify({ token }), { mode: 0o644 });
    }
    await run("chmod", ["-R", "a+rX", secretsDir]);
    return { containerDir, secretsDir, entrypoint };
  })();
  return subFixture;
}

/** The image's engine runs the baked-in sub-workflows, each with its own mounted secrets. */
async function runsSubWorkflows(runtime: ContainerRuntime): Promise<void> {
  const { containerDir, secretsDir, entrypoint } = await subWorkflowImage();
  await writeContainerSpec(containerDir, {
    args: [...entrypoint, "exec", "/app/workflow", "-o", "json", "--input", '{"users":["ada"]}'],
    binds: [{ source: secretsDir, destination: "/app/secrets" }],
  });
  const result = await runContainer(runtime, containerDir);
  assert.equal(
    result.code,
    0,
    `${runtime} exit ${result.code}\n${result.stderr}\n${result.stdout}`,
  );
  const record = JSON.parse(result.stdout) as { status: string; result: unknown };
  assert.equal(record.status, "succeeded");
  assert.deepEqual(record.result, expectedResult(["ada"]));
  assertNoSecret(result.stdout + result.stderr, `the ${runtime} container's output`);
}

Deno.test({
  name: "the built image runs sub-workflows baked into it, each with its own secrets, under runc",
  ignore: ignoreWithout([...BUILD_TOOLS, "runc"], "runc sub-workflow e2e"),
  ...shared,
  fn: () => runsSubWorkflows(ContainerRuntime.Runc),
});

Deno.test({
  name: "the built image runs sub-workflows baked into it, each with its own secrets, under runsc",
  ignore: ignoreWithout([...BUILD_TOOLS, "runc", "runsc"], "runsc sub-workflow e2e"),
  ...shared,
  fn: () => runsSubWorkflows(ContainerRuntime.Runsc),
});
