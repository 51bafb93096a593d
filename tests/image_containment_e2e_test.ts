/**
 * Containment inside the built image (issue 12), under runc with the Deployment's
 * securityContext (non-root, no capabilities, no privilege escalation, read-only root, the
 * namespace rules of seccomp RuntimeDefault) and under runsc (gVisor): module nodes run in
 * sandbox processes started from the bundled engine, so hostile nodes fail alone while `serve`
 * keeps answering; secrets stay out of reach; and command nodes, whose bubblewrap cannot make
 * its namespaces in either runtime, are refused with the reason.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleWorkflow } from "../builder/mod.ts";
import { loadWorkflow } from "../engine/mod.ts";
import {
  assertTools,
  ContainerRuntime,
  ignoreWithout,
  runContainer,
  writeContainerSpec,
} from "../builder/testdata/oci_tools.ts";
import { ROOT } from "./_cli.ts";
import { assertContained, HOSTILE_DIR } from "./_containment.ts";
import { BUILD_TOOLS, imageFixture, startServeContainer } from "./_image_fixture.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const TOOLS = [...BUILD_TOOLS, "runc", "runsc"];
const RUNTIMES = [ContainerRuntime.Runc, ContainerRuntime.Runsc];
const shared = { sanitizeResources: false, sanitizeOps: false };

/** Why bubblewrap cannot run in the image, as its own first stderr line says, per runtime. */
const BWRAP_REFUSED: Record<ContainerRuntime, RegExp> = {
  // seccomp RuntimeDefault: unshare(CLONE_NEWUSER) is EPERM without CAP_SYS_ADMIN.
  runc: /bwrap failed: bwrap: No permissions to create new namespace/,
  // gVisor's /proc has no /proc/sys/kernel/overflowuid, which bwrap reads first.
  runsc: /bwrap failed: bwrap: Can't read \/proc\/sys\/kernel\/overflowuid/,
};

/** Bundles a workflow of tests/testdata into a fresh directory, as `build` does. */
async function bundleOf(dir: string): Promise<string> {
  const { work } = await imageFixture();
  const out = await Deno.makeTempDir({ dir: work, prefix: "bundle-" });
  await bundleWorkflow(await loadWorkflow(join(ROOT, dir)), { outDir: out });
  // Readable by the container's user, as a ConfigMap mount is.
  await Deno.chmod(out, 0o755);
  return out;
}

Deno.test({
  name:
    "in the image, `serve` survives a memory bomb and kills by its nodes and runs the next run (runc, runsc)",
  ignore: ignoreWithout(TOOLS, "image containment e2e"),
  ...shared,
  async fn() {
    assertTools(TOOLS);
    const bundle = await bundleOf(HOSTILE_DIR);
    for (const runtime of RUNTIMES) {
      await using container = await startServeContainer(runtime, {
        binds: [{ source: bundle, destination: "/app/workflow" }],
        env: ["PIPEDREAMER_TOKEN=e2e-token"],
      });
      const headers = { authorization: "Bearer e2e-token", "content-type": "application/json" };
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${container.url}/run`, {
          method: "POST",
          headers,
          body: "{}",
        }).catch((error) => {
          throw new Error(`${runtime}, run ${i + 1}: ${error}\n${container.stderr()}`);
        });
        const body: Json = await response.json();
        assert.equal(
          response.status,
          200,
          `${runtime}: ${JSON.stringify(body)}\n${container.stderr()}`,
        );
        assert.equal(body.status, "succeeded", runtime);
        assertContained(body.result);
        const health = await fetch(`${container.url}/health`);
        assert.equal(health.status, 200, runtime);
        assert.equal((await health.json()).status, "ok");
      }
      assert.match(
        container.stderr(),
        /command nodes are refused: no OS sandbox here \(bwrap failed: /,
      );
      assert.match(container.stderr(), BWRAP_REFUSED[runtime]);
    }
  },
});

Deno.test({
  name:
    "in the image, a node cannot read the secrets or /etc/passwd, and command nodes are refused saying why (runc; runsc with --network=host and none)",
  ignore: ignoreWithout(TOOLS, "image containment e2e"),
  ...shared,
  async fn() {
    assertTools(TOOLS);
    const { entrypoint, containerDir, work } = await imageFixture();
    const bundle = await bundleOf("tests/testdata/image-probe");
    const secrets = await Deno.makeTempDir({ dir: work, prefix: "secrets-" });
    await Deno.writeTextFile(join(secrets, "svc"), "token: sk-image-s3cr3t\n", { mode: 0o644 });
    // Readable by the engine (uid 65532), as a Kubernetes Secret volume is.
    await Deno.chmod(secrets, 0o755);
    const runs: [ContainerRuntime, "host" | "none"][] = [
      [ContainerRuntime.Runc, "host"],
      [ContainerRuntime.Runsc, "host"],
      [ContainerRuntime.Runsc, "none"],
    ];
    for (const [runtime, network] of runs) {
      await writeContainerSpec(containerDir, {
        args: [...entrypoint, "exec", "/app/workflow", "-o", "json"],
        binds: [
          { source: bundle, destination: "/app/workflow" },
          { source: secrets, destination: "/app/secrets" },
        ],
      });
      const result = await runContainer(runtime, containerDir, network);
      assert.equal(result.code, 0, `${runtime} exit ${result.code}\n${result.stderr}`);
      assert.ok(!result.stdout.includes("sk-image-s3cr3t"), result.stdout);
      const record: Json = JSON.parse(result.stdout);
      assert.equal(record.status, "succeeded", runtime);
      assert.deepEqual(record.result.peek, {
        granted: true,
        mountedSecret: "NotCapable",
        secretsFile: "NotCapable",
        passwd: "NotCapable",
      }, runtime);
      assert.equal(record.nodes.escape.status, "failed", runtime);
      assert.match(
        record.result.escape,
        /^Cannot run node "escape": command nodes run only in an OS sandbox, and none is available here \(bwrap failed: .+\); run the engine where bubblewrap may create user, mount and PID namespaces \(README: Security\), or start the engine with --unsandboxed-commands to run command nodes without one$/,
      );
      assert.match(record.result.escape, BWRAP_REFUSED[runtime]);
    }
  },
});

Deno.test({
  name:
    "the image's bubblewrap, started through its own loader, sandboxes a program where the host allows namespaces",
  ignore: ignoreWithout(TOOLS, "image bubblewrap e2e"),
  ...shared,
  async fn() {
    assertTools(TOOLS);
    const { containerDir } = await imageFixture();
    const rootfs = join(containerDir, "rootfs");
    // The same argv the engine uses in the image, with the image's files taken from its rootfs.
    const output = await new Deno.Command(join(rootfs, "app/lib/bwrap/ld.so"), {
      args: [
        "--library-path",
        join(rootfs, "app/lib/bwrap"),
        join(rootfs, "app/bin/bwrap"),
        "--unshare-all",
        "--uid",
        "65534",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--proc",
        "/proc",
        "--",
        "/usr/bin/id",
        "-u",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.equal(new TextDecoder().decode(output.stdout).trim(), "65534");
  },
});
