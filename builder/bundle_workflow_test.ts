import { strict as assert } from "node:assert";
import { join } from "node:path";
import { createRunner, executeRun, loadWorkflow } from "../engine/mod.ts";
import { sha256Hex } from "./_digest.ts";
import { bundleWorkflow } from "./bundle_workflow.ts";
import { assertTools, ignoreWithout } from "./testdata/oci_tools.ts";

const PROBE = new URL("./testdata/probe-workflow", import.meta.url).pathname;
const COMMAND = new URL("./testdata/command-workflow", import.meta.url).pathname;
const decode = (data: Uint8Array | undefined) => new TextDecoder().decode(data);

Deno.test("`bundleWorkflow()` makes flat self-contained files and a workflow.yaml that points at them", async () => {
  const source = await loadWorkflow(PROBE);
  const out = await Deno.makeTempDir();
  try {
    const bundle = await bundleWorkflow(source, { outDir: out });
    assert.deepEqual(Object.keys(bundle.files), [
      "fetch-allowed.js",
      "greet.js",
      "manifest.json",
      "report.js",
      "workflow.yaml",
      "write-outside.js",
    ]);
    // fetch-denied shares fetch-allowed's module, so it shares its bundle.
    assert.deepEqual(bundle.manifest.nodes["fetch-denied"], ["fetch-allowed.js"]);
    assert.equal(bundle.manifest.codeHash, source.codeHash);
    for (const [name, hash] of Object.entries(bundle.manifest.files)) {
      assert.equal(await sha256Hex(bundle.files[name]!), hash, name);
      assert.deepEqual(await Deno.readFile(join(out, name)), bundle.files[name]);
    }
    assert.equal(bundle.bytes, Object.values(bundle.files).reduce((n, f) => n + f.length, 0));
    // Building never writes into the project: no lockfile appears.
    await assert.rejects(Deno.stat(join(PROBE, "deno.lock")), Deno.errors.NotFound);
    assert.equal(bundle.fitsConfigMap, true);

    // npm:yaml is inlined: the bundle imports nothing but Node built-ins.
    const greet = decode(bundle.files["greet.js"]);
    assert.match(greet, /export \{[^}]*default/);
    const imports = [...greet.matchAll(/^import .* from ["']([^"']+)["']/gm)].map((m) => m[1]);
    assert.ok(imports.every((s) => s?.startsWith("node:")), `unexpected imports: ${imports}`);
    assert.doesNotMatch(greet, /["'](npm|jsr|https?):/);

    // Comments survive; only the paths changed.
    const yaml = decode(bundle.files["workflow.yaml"]);
    assert.match(yaml, /# Only the host: the test server's port differs per run\./);
    assert.match(yaml, /path: \.\/fetch-allowed\.js\n/);
    assert.match(yaml, /fetch-denied:\n {4}path: \.\/fetch-allowed\.js\n/);

    const bundled = await loadWorkflow(out);
    assert.deepEqual(bundled.order, source.order);
    assert.equal(bundled.nodes.greet?.path, join(out, "greet.js"));

    const runner = createRunner();
    try {
      const record = await executeRun(bundled, {
        input: { name: "bundle" },
        runner,
        target: "greet",
      });
      assert.equal(record.status, "succeeded", JSON.stringify(record.nodes));
      assert.deepEqual(record.nodes.greet?.output, {
        yaml: "hello: bundle\n",
        parsed: { hello: "bundle" },
      });
    } finally {
      await runner.close();
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("`bundleWorkflow()` is deterministic", async () => {
  const workflow = await loadWorkflow(PROBE);
  const [a, b] = [await bundleWorkflow(workflow), await bundleWorkflow(workflow)];
  assert.deepEqual(a.files, b.files);
});

Deno.test({
  name:
    "`bundleWorkflow()` carries command-node files, flattened, executable, and the run still works",
  ignore: ignoreWithout(["python3"], "command node bundle"),
  async fn() {
    assertTools(["python3"]);
    const out = await Deno.makeTempDir();
    try {
      const bundle = await bundleWorkflow(await loadWorkflow(COMMAND), { outDir: out });
      assert.deepEqual(bundle.manifest.nodes.count, ["count.count.py"]);
      assert.equal(bundle.modes["count.count.py"], 0o755);
      assert.equal((await Deno.stat(join(out, "count.count.py"))).mode! & 0o777, 0o755);
      assert.match(
        decode(bundle.files["workflow.yaml"]),
        /command: \[ python3, \.\/count\.count\.py, --verbose \]/,
      );
      const runner = createRunner();
      try {
        const record = await executeRun(await loadWorkflow(out), {
          input: { names: ["a", "b", "c"] },
          runner,
        });
        assert.equal(record.status, "succeeded", JSON.stringify(record.nodes));
        assert.deepEqual(record.result, { count: 3, flags: ["--verbose"] });
      } finally {
        await runner.close();
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("`bundleWorkflow()` reports a bundle over the ConfigMap limit", async () => {
  const bundle = await bundleWorkflow(await loadWorkflow(PROBE), { configMapLimit: 10_000 });
  assert.equal(bundle.fitsConfigMap, false);
  assert.ok(bundle.bytes > 10_000);
});

Deno.test("`bundleWorkflow()` fails with deno's diagnostics when a node cannot be bundled", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "nodes"));
    await Deno.writeTextFile(
      join(dir, "workflow.yaml"),
      "name: broken\nversion: 1.0.0\nnodes:\n  a: { path: ./nodes/a.ts }\n",
    );
    await Deno.writeTextFile(
      join(dir, "nodes/a.ts"),
      'import { missing } from "./nowhere.ts";\nexport default () => missing;\n',
    );
    await assert.rejects(
      bundleWorkflow(await loadWorkflow(dir)),
      (e) =>
        e instanceof Error &&
        /Cannot bundle ".*nodes\/a\.ts": deno bundle failed\n[\s\S]*nowhere\.ts/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`bundleWorkflow()` checks a project's lockfile and never rewrites it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "nodes"));
    for (
      const file of [
        "workflow.yaml",
        "nodes/greet.ts",
        "nodes/fetch-url.ts",
        "nodes/write-outside.ts",
        "nodes/report.ts",
      ]
    ) {
      await Deno.copyFile(join(PROBE, file), join(dir, file));
    }
    const api = new URL("../engine/runners/node_api.ts", import.meta.url).pathname;
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({ imports: { pipedreamer: api, yaml: "npm:yaml@2.9.1" } }),
    );
    const install = await new Deno.Command(Deno.execPath(), {
      args: ["install", "--quiet", "--entrypoint", "nodes/greet.ts"],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(install.success, new TextDecoder().decode(install.stderr));
    const lock = await Deno.readTextFile(join(dir, "deno.lock"));
    assert.match(lock, /npm:yaml@2\.9\.1/);

    const workflow = await loadWorkflow(dir);
    await bundleWorkflow(workflow);
    assert.equal(await Deno.readTextFile(join(dir, "deno.lock")), lock);

    // A lockfile that does not cover the imports fails the build instead of being updated.
    const stale = JSON.parse(lock);
    stale.specifiers = {};
    stale.npm = {};
    await Deno.writeTextFile(join(dir, "deno.lock"), JSON.stringify(stale));
    await assert.rejects(
      bundleWorkflow(workflow),
      /deno bundle failed[\s\S]*lockfile is out of date/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
