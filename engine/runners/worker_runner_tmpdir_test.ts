import assert from "node:assert/strict";
import { createWorkerRunner } from "./worker_runner.ts";
import { createRunner } from "./create_runner.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("`createWorkerRunner().releaseTmpDir()` hands an empty run dir to the next run", async () => {
  const base = await Deno.makeTempDir({ prefix: "pipedreamer-tmpdir-test-" });
  const runner = createWorkerRunner({ tmpBase: base });
  try {
    const first = await runner.makeTmpDir("run-1");
    await runner.releaseTmpDir(first);
    assert.equal(await exists(first), true, "kept for reuse");
    assert.equal(await runner.makeTmpDir("run-2"), first);
    assert.notEqual(await runner.makeTmpDir("run-3"), first, "handed out once");
  } finally {
    await runner.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("`createWorkerRunner().releaseTmpDir()` removes a run dir a node wrote into", async () => {
  const base = await Deno.makeTempDir({ prefix: "pipedreamer-tmpdir-test-" });
  const runner = createWorkerRunner({ tmpBase: base });
  try {
    const dir = await runner.makeTmpDir("run-1");
    await Deno.mkdir(`${dir}/nested`);
    await Deno.writeTextFile(`${dir}/nested/out.txt`, "data");
    await runner.releaseTmpDir(dir);
    assert.equal(await exists(dir), false);
    assert.notEqual(await runner.makeTmpDir("run-2"), dir);
  } finally {
    await runner.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("`createWorkerRunner().releaseTmpDir()` removes a dir outside its base, and after close()", async () => {
  const base = await Deno.makeTempDir({ prefix: "pipedreamer-tmpdir-test-" });
  const elsewhere = await Deno.makeTempDir({ prefix: "pipedreamer-tmpdir-test-" });
  const runner = createWorkerRunner({ tmpBase: base });
  try {
    await runner.releaseTmpDir(elsewhere);
    assert.equal(await exists(elsewhere), false);
    const dir = await runner.makeTmpDir("run-1");
    await runner.close();
    await runner.releaseTmpDir(dir);
    assert.equal(await exists(dir), false);
  } finally {
    await runner.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("`createRunner()` gives its run dirs back to the worker runner for reuse", async () => {
  const base = await Deno.makeTempDir({ prefix: "pipedreamer-tmpdir-test-" });
  const runner = createRunner({ tmpBase: base });
  try {
    const dir = await runner.makeTmpDir!("run-1");
    await runner.releaseTmpDir!(dir);
    assert.equal(await runner.makeTmpDir!("run-2"), dir);
  } finally {
    await runner.close();
    await Deno.remove(base, { recursive: true });
  }
});
