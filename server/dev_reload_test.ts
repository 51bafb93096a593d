import assert from "node:assert/strict";
import { join } from "node:path";
import { type CompiledWorkflow, loadWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import { FakeClock, waitFor } from "../testing/mod.ts";
import { CodeSnapshots } from "./_code_snapshots.ts";
import { devReload, type FsWatcherLike } from "./dev_reload.ts";

/** A watcher whose events the test pushes. */
class FakeWatcher implements FsWatcherLike {
  closed = false;
  #queue: { paths: string[] }[] = [];
  #wake: (() => void) | undefined;

  push(...paths: string[]): void {
    this.#queue.push({ paths });
    this.#wake?.();
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<{ paths: string[] }> {
    while (!this.closed) {
      const event = this.#queue.shift();
      if (event) {
        yield event;
        continue;
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}

const WORKFLOW = `name: reload-me
version: "1.0.0"
nodes:
  hello: { path: ./nodes/hello.ts }
`;
const NODE = (word: string) => `export default () => "${word}";\n`;

async function setup(check: () => Promise<never[]> = () => Promise.resolve([])) {
  const dir = await Deno.makeTempDir({ prefix: "dev-reload-" });
  await Deno.mkdir(join(dir, "nodes"));
  await Deno.writeTextFile(join(dir, "workflow.yaml"), WORKFLOW);
  await Deno.writeTextFile(join(dir, "nodes/hello.ts"), NODE("one"));
  const current = await loadWorkflow(dir);
  const clock = new FakeClock();
  const watcher = new FakeWatcher();
  const reloads: CompiledWorkflow[] = [];
  const errors: unknown[] = [];
  let loads = 0;
  let notify = () => {};
  const settled = () => new Promise<void>((resolve) => notify = resolve);
  const reloader = devReload(dir, {
    current,
    clock,
    debounceMs: 100,
    watch: () => watcher,
    load: (d) => {
      loads++;
      return loadWorkflow(d).finally(() => setTimeout(() => notify(), 0));
    },
    check,
    onReload: (workflow) => reloads.push(workflow),
    onError: (error) => errors.push(error),
  });
  return {
    dir,
    clock,
    watcher,
    reloads,
    errors,
    loads: () => loads,
    settled,
    async [Symbol.asyncDispose]() {
      await reloader.close();
      assert.ok(watcher.closed);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("`devReload()` loads once after a burst of changes settles", async () => {
  await using t = await setup();
  await Deno.writeTextFile(join(t.dir, "nodes/hello.ts"), NODE("two"));
  t.watcher.push(join(t.dir, "nodes/hello.ts"));
  await t.clock.waitForSleepers(1);
  await t.clock.advance(60);
  t.watcher.push(join(t.dir, "workflow.yaml"), join(t.dir, "nodes/hello.ts"));
  await t.clock.waitForSleepers(1);
  await t.clock.advance(60);
  assert.equal(t.loads(), 0, "the second change restarted the debounce");
  const done = t.settled();
  await t.clock.advance(40);
  await done;
  assert.equal(t.loads(), 1);
  assert.equal(t.reloads.length, 1);
  assert.equal(t.reloads[0]!.name, "reload-me");
});

Deno.test("`devReload()` ignores hidden entries, other files and unchanged code", async () => {
  await using t = await setup();
  t.watcher.push(join(t.dir, ".pipedreamer/runs.db-wal"), join(t.dir, "tests/fixtures/x.json"));
  t.watcher.push(join(t.dir, "nodes/.hello.ts.swp"), "/elsewhere/workflow.yaml");
  // A relevant event behind them proves the ones above were seen and skipped.
  t.watcher.push(join(t.dir, "workflow.yaml"));
  await t.clock.waitForSleepers(1);
  const done = t.settled();
  await t.clock.advance(100);
  await done;
  assert.equal(t.loads(), 1);
  assert.deepEqual(t.reloads, [], "same code hash: nothing to reload");
  assert.deepEqual(t.errors, []);
});

Deno.test("`devReload()` reports a broken edit, keeps the last version, and reloads once fixed", async () => {
  await using t = await setup();
  await Deno.writeTextFile(join(t.dir, "workflow.yaml"), WORKFLOW.replace("nodes:", "nodez:"));
  t.watcher.push(join(t.dir, "workflow.yaml"));
  await t.clock.waitForSleepers(1);
  let done = t.settled();
  await t.clock.advance(100);
  await done;
  assert.equal(t.reloads.length, 0);
  assert.equal(t.errors.length, 1);
  const error = t.errors[0] as WorkflowSyntaxError;
  assert.ok(error instanceof WorkflowSyntaxError);
  assert.equal(error.issues[0]!.file, "workflow.yaml");
  assert.ok(error.issues[0]!.line > 0);

  // Fixed back to the very same content: the served version is right again, say so.
  await Deno.writeTextFile(join(t.dir, "workflow.yaml"), WORKFLOW);
  t.watcher.push(join(t.dir, "workflow.yaml"));
  await t.clock.waitForSleepers(1);
  done = t.settled();
  await t.clock.advance(100);
  await done;
  assert.equal(t.reloads.length, 1);
});

Deno.test("`devReload()` reports a type error in a node file and keeps the last good version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dev-reload-types-" });
  try {
    await Deno.mkdir(join(dir, "nodes"));
    await Deno.writeTextFile(join(dir, "workflow.yaml"), WORKFLOW);
    await Deno.writeTextFile(join(dir, "nodes/hello.ts"), NODE("one"));
    const current = await loadWorkflow(dir);
    const clock = new FakeClock();
    const watcher = new FakeWatcher();
    const reloads: CompiledWorkflow[] = [];
    const errors: unknown[] = [];
    const reloader = devReload(dir, {
      current,
      clock,
      debounceMs: 100,
      watch: () => watcher,
      onReload: (workflow) => reloads.push(workflow),
      onError: (error) => errors.push(error),
    });
    try {
      await Deno.writeTextFile(
        join(dir, "nodes/hello.ts"),
        'export default () => {\n  const n: number = "two";\n  return n;\n};\n',
      );
      watcher.push(join(dir, "nodes/hello.ts"));
      await clock.waitForSleepers(1);
      await clock.advance(100);
      await waitFor(() => errors.length === 1, "the type error");
      const error = errors[0] as WorkflowSyntaxError;
      assert.ok(error instanceof WorkflowSyntaxError);
      assert.deepEqual(
        { ...error.issues[0]!, hint: undefined },
        {
          file: "nodes/hello.ts",
          line: 2,
          column: 9,
          message: "Type 'string' is not assignable to type 'number'.",
          hint: undefined,
        },
      );
      assert.equal(reloads.length, 0);
      // Fixed: the new version is served.
      await Deno.writeTextFile(join(dir, "nodes/hello.ts"), NODE("two"));
      watcher.push(join(dir, "nodes/hello.ts"));
      await clock.waitForSleepers(1);
      await clock.advance(100);
      await waitFor(() => reloads.length === 1, "the fixed version");
    } finally {
      await reloader.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`devReload()` loads nothing after close", async () => {
  const t = await setup();
  t.watcher.push(join(t.dir, "workflow.yaml"));
  await t.clock.waitForSleepers(1);
  await t[Symbol.asyncDispose]();
  await t.clock.advance(1000);
  assert.equal(t.loads(), 0);
});

Deno.test("`devReload()` with code snapshots reloads a helper-only edit and watches named files in the real directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dev-reload-snap-" });
  try {
    await Deno.mkdir(join(dir, "nodes"));
    await Deno.mkdir(join(dir, "scripts"));
    await Deno.writeTextFile(
      join(dir, "workflow.yaml"),
      `${WORKFLOW}  copy: { command: [./scripts/copy.sh], capabilities: { run: [./scripts/copy.sh] } }\n`,
    );
    await Deno.writeTextFile(
      join(dir, "nodes/hello.ts"),
      'import { word } from "./_word.ts";\nexport default () => word;\n',
    );
    await Deno.writeTextFile(join(dir, "nodes/_word.ts"), 'export const word = "one";\n');
    await Deno.writeTextFile(join(dir, "scripts/copy.sh"), "cat\n");
    const snapshots = new CodeSnapshots(join(dir, ".pipedreamer/code"));
    const current = await snapshots.load(dir);
    const clock = new FakeClock();
    const watcher = new FakeWatcher();
    const reloads: CompiledWorkflow[] = [];
    let notify = () => {};
    const reloader = devReload(dir, {
      current,
      clock,
      debounceMs: 100,
      watch: () => watcher,
      load: (d) => snapshots.load(d).finally(() => setTimeout(() => notify(), 0)),
      // This test is about snapshots; the type check has its own test.
      check: () => Promise.resolve([]),
      onReload: (workflow) => reloads.push(workflow),
      onError: (error) => assert.fail(String(error)),
    });
    const edit = async (file: string, text: string) => {
      await Deno.writeTextFile(join(dir, file), text);
      watcher.push(join(dir, file));
      // One macrotask turn lets the watcher loop take the event (all promise callbacks).
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(clock.pending, 1, `${file} was not seen as part of the workflow`);
      const done = new Promise<void>((resolve) => notify = resolve);
      await clock.advance(100);
      await done;
    };
    try {
      await edit("nodes/_word.ts", 'export const word = "two";\n');
      assert.equal(reloads.length, 1, "a helper's edit is a new version");
      assert.equal(reloads[0]!.codeHash, current.codeHash, "though no node file changed");
      assert.notEqual(reloads[0]!.dir, current.dir);
      await edit("scripts/copy.sh", "cat -\n");
      assert.equal(reloads.length, 2, "the command's script is watched where it really is");
      assert.notEqual(reloads[1]!.codeHash, current.codeHash);
    } finally {
      await reloader.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
