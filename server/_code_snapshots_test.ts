import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { loadWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import { CodeSnapshots } from "./_code_snapshots.ts";

const WORKFLOW = `name: snap
version: "1.0.0"
nodes:
  a: { path: ./nodes/a.ts }
  b: { command: [./bin/run.sh], capabilities: { run: [./bin/run.sh] } }
edges:
  - { from: a, to: b }
`;

/** A workflow directory with everything a real one may hold, and a snapshot root inside it. */
async function project(): Promise<{ dir: string; root: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "pd-snapshots-" });
  const files: Record<string, string> = {
    "workflow.yaml": WORKFLOW,
    "nodes/a.ts": 'import { word } from "../lib/word.ts";\nexport default () => word;\n',
    "lib/word.ts": 'export const word = "old";\n',
    "bin/run.sh": "#!/bin/sh\ncat\n",
    "tests/fixtures/a.json": '{ "expected": "old" }\n',
    ".secrets.yaml": "svc: { token: s3cret }\n",
    ".secrets/other": "s3cret\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    "node_modules/x/index.js": "export {};\n",
    ".pipedreamer/runs.db": "not code\n",
    "..2025_01_01/extra.yaml": "k8s volume internals\n",
  };
  for (const [file, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, file, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, file), text);
  }
  await Deno.chmod(join(dir, "bin/run.sh"), 0o755);
  return {
    dir,
    root: join(dir, ".pipedreamer", "code"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function filesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    for await (const entry of Deno.readDir(at)) {
      if (entry.isDirectory) await walk(join(at, entry.name));
      else found.push(relative(dir, join(at, entry.name)));
    }
  };
  await walk(dir);
  return found.sort();
}

async function entries(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("`CodeSnapshots.load()` compiles the workflow from a copy of its code, without secrets or stores", async () => {
  await using p = await project();
  const snapshots = new CodeSnapshots(p.root);
  const workflow = await snapshots.load(p.dir);
  assert.equal(relative(p.root, workflow.dir).split("/").length, 1, workflow.dir);
  assert.equal(workflow.file, join(workflow.dir, "workflow.yaml"));
  assert.equal(workflow.nodes.a?.path, join(workflow.dir, "nodes/a.ts"));
  assert.deepEqual(await filesIn(workflow.dir), [
    "bin/run.sh",
    "lib/word.ts",
    "nodes/a.ts",
    "tests/fixtures/a.json",
    "workflow.yaml",
  ]);
  assert.equal((await Deno.stat(join(workflow.dir, "bin/run.sh"))).mode! & 0o111, 0o111);
  assert.equal(
    workflow.codeHash,
    (await loadWorkflow(p.dir)).codeHash,
    "the code hash does not depend on where the code is",
  );
});

Deno.test("`CodeSnapshots.load()` keeps each version's files: an edit makes a new snapshot, the same content reuses one", async () => {
  await using p = await project();
  const snapshots = new CodeSnapshots(p.root);
  const first = await snapshots.load(p.dir);
  assert.equal((await snapshots.load(p.dir)).dir, first.dir, "same content, same snapshot");

  // A relatively imported helper is code too, though it is no node file.
  await Deno.writeTextFile(join(p.dir, "lib/word.ts"), 'export const word = "new";\n');
  const second = await snapshots.load(p.dir);
  assert.notEqual(second.dir, first.dir);
  assert.equal(second.codeHash, first.codeHash, "node files and workflow.yaml did not change");
  assert.equal(
    await Deno.readTextFile(join(first.dir, "lib/word.ts")),
    'export const word = "old";\n',
  );
  assert.equal(
    await Deno.readTextFile(join(second.dir, "lib/word.ts")),
    'export const word = "new";\n',
  );

  await Deno.writeTextFile(join(p.dir, "lib/word.ts"), 'export const word = "old";\n');
  assert.equal((await snapshots.load(p.dir)).dir, first.dir, "back to the first content");
  assert.deepEqual(
    await entries(p.root),
    [first.dir, second.dir].map((d) => relative(p.root, d)).sort(),
  );
});

Deno.test("`CodeSnapshots.load()` rejects a broken workflow with its real file names and copies nothing", async () => {
  await using p = await project();
  await Deno.writeTextFile(
    join(p.dir, "workflow.yaml"),
    WORKFLOW.replace("a: {", "a: { colour: red,"),
  );
  const snapshots = new CodeSnapshots(p.root);
  const error = await snapshots.load(p.dir).then(() => undefined, (e) => e);
  assert.ok(error instanceof WorkflowSyntaxError, String(error));
  assert.equal(error.issues[0]?.file, "workflow.yaml");
  assert.match(error.issues[0]?.message ?? "", /colour/);
  await assert.rejects(Deno.stat(p.root), Deno.errors.NotFound);
});

Deno.test("`CodeSnapshots.load()` follows symlinked files (a ConfigMap mount) and skips excluded paths", async () => {
  await using p = await project();
  const mount = join(p.dir, "..", `${relative(join(p.dir, ".."), p.dir)}-mount`);
  await Deno.mkdir(join(mount, "..data", "nodes"), { recursive: true });
  try {
    await Deno.copyFile(join(p.dir, "workflow.yaml"), join(mount, "..data", "workflow.yaml"));
    await Deno.writeTextFile(
      join(mount, "..data", "workflow.yaml"),
      WORKFLOW.replace(/ {2}b:.*\n/, "").replace(/edges:\n.*\n/, ""),
    );
    await Deno.writeTextFile(join(mount, "..data", "nodes", "a.ts"), "export default () => 1;\n");
    await Deno.symlink("..data/workflow.yaml", join(mount, "workflow.yaml"));
    await Deno.symlink("..data/nodes", join(mount, "nodes"));
    await Deno.mkdir(join(mount, "data"));
    await Deno.writeTextFile(join(mount, "data", "runs.db"), "a store inside the workflow\n");
    const snapshots = new CodeSnapshots(join(mount, "data", "code"), {
      exclude: [join(mount, "data")],
    });
    const workflow = await snapshots.load(mount);
    assert.deepEqual(await filesIn(workflow.dir), ["nodes/a.ts", "workflow.yaml"]);
    assert.equal((await Deno.lstat(join(workflow.dir, "workflow.yaml"))).isSymlink, false);
  } finally {
    await Deno.remove(mount, { recursive: true });
  }
});

Deno.test("`CodeSnapshots.prune()` keeps the snapshots in use and the newest ones", async () => {
  await using p = await project();
  const snapshots = new CodeSnapshots(p.root, { keep: 2 });
  const dirs: string[] = [];
  for (const word of ["v1", "v2", "v3", "v4", "v5"]) {
    await Deno.writeTextFile(join(p.dir, "lib/word.ts"), `export const word = "${word}";\n`);
    dirs.push((await snapshots.load(p.dir)).dir);
  }
  // Loaded in order v1..v5, one second apart (mtimes of the same millisecond would tie).
  for (const [i, dir] of dirs.entries()) {
    const at = new Date(Date.UTC(2025, 0, 1, 0, 0, i));
    await Deno.utime(dir, at, at);
  }
  const name = (i: number) => relative(p.root, dirs[i]!);
  const removed = await snapshots.prune([dirs[0]!]);
  assert.deepEqual(removed.sort(), [name(1), name(2)].sort());
  assert.deepEqual(await entries(p.root), [name(0), name(3), name(4)].sort());
  assert.deepEqual(await new CodeSnapshots(join(p.dir, "missing")).prune([]), []);
  assert.throws(() => new CodeSnapshots(p.root, { keep: -1 }), RangeError);
});
