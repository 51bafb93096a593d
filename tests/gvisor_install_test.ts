/**
 * deploy/gvisor/install.sh against temporary containerd configs (config versions 2 and 3),
 * installing from a local directory as on an air-gapped node.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, tempDir } from "./_cli.ts";

const SCRIPT = `${ROOT}/deploy/gvisor/install.sh`;

async function install(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("bash", { args: [SCRIPT, ...args], stdin: "null" })
    .output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** A node's files: stub binaries to install and a containerd config with `initial` content. */
async function node(dir: string, initial: string): Promise<string[]> {
  await Deno.mkdir(join(dir, "release"));
  await Deno.writeTextFile(join(dir, "release/runsc"), "#!/bin/sh\necho 'runsc version test'\n");
  await Deno.writeTextFile(join(dir, "release/containerd-shim-runsc-v1"), "#!/bin/sh\n");
  await Deno.writeTextFile(join(dir, "config.toml"), initial);
  return [
    "--from-dir",
    join(dir, "release"),
    "--bin-dir",
    join(dir, "bin"),
    "--config",
    join(dir, "config.toml"),
    "--runsc-config",
    join(dir, "runsc.toml"),
    "--no-restart",
  ];
}

Deno.test("install.sh registers the runsc handler once, in the config version's section", async (t) => {
  const cases: [string, string, string][] = [
    [
      "version 2",
      'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]',
    ],
    [
      "version 3",
      "version = 3\n",
      "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runsc]",
    ],
    ["no config yet", "", '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]'],
  ];
  for (const [name, initial, section] of cases) {
    await t.step(name, async () => {
      await using dir = await tempDir();
      const args = await node(dir.path, initial);
      for (let i = 0; i < 2; i++) {
        const result = await install(args);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /runsc version test/);
      }
      const config = await Deno.readTextFile(join(dir.path, "config.toml"));
      assert.equal(config.split(section).length - 1, 1, config);
      assert.match(config, /runtime_type = "io.containerd.runsc.v1"/);
      assert.ok(config.includes(`ConfigPath = "${join(dir.path, "runsc.toml")}"`));
      assert.match(config, /^version = [23]$/m);
      assert.equal(config.match(/BEGIN pipedreamer gvisor/g)?.length, 1);
      assert.match(await Deno.readTextFile(join(dir.path, "runsc.toml")), /platform = "systrap"/);
      assert.equal((await Deno.stat(join(dir.path, "bin/runsc"))).mode! & 0o777, 0o755);
      assert.equal(
        (await Deno.stat(join(dir.path, "bin/containerd-shim-runsc-v1"))).mode! & 0o777,
        0o755,
      );
    });
  }
});

Deno.test("install.sh leaves a hand-written runsc runtime alone", async () => {
  await using dir = await tempDir();
  const initial =
    'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n  runtime_type = "custom"\n';
  const result = await install(await node(dir.path, initial));
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /already has a runsc runtime \(not written by this script\); left as is/,
  );
  assert.equal(await Deno.readTextFile(join(dir.path, "config.toml")), initial);
});

Deno.test("install.sh rejects bad options and a missing binary with exit codes 2 and 1", async () => {
  const unknown = await install(["--frob"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--frob'/);
  const platform = await install(["--platform", "fast"]);
  assert.equal(platform.code, 2);
  assert.match(platform.stderr, /cannot use platform 'fast': choose systrap, ptrace or kvm/);
  await using dir = await tempDir();
  const args = await node(dir.path, "");
  await Deno.remove(join(dir.path, "release/containerd-shim-runsc-v1"));
  const missing = await install(args);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /'containerd-shim-runsc-v1' is missing there/);
});
