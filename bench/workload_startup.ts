/**
 * start-up: `serve` process start to `/health` ready, `exec` of a 1-node workflow end to end,
 * the idle RSS of `serve`, and the RSS each distinct node isolate adds (VmRSS of the serve
 * process: a run of 8 nodes with 8 different capabilities, so 8 sandbox workers, against a run
 * of 1 node).
 *
 * @module
 */

import { join } from "node:path";
import { startServe, type StartServeOptions } from "./_serve.ts";
import { writeIsolatesProject, writeProject } from "./_projects.ts";
import { REPO_ROOT, rssOf } from "./_paths.ts";
import { fmtSummary, mib, summarize, type Summary, table } from "./_stats.ts";
import type { BenchContext } from "./_context.ts";

/** Figures of the start-up workload. */
export interface StartupResults {
  serveReadyMs: Summary;
  /** The same server started without the CLI (bench/_lean_serve.ts). */
  leanReadyMs: Summary;
  leanIdleRssBytes: number;
  execMs: Summary;
  idleRssBytes: number;
  rssAfterOneNodeBytes: number;
  isolates: number;
  rssPerIsolateBytes: number;
}

/** The serve process is left alone this long before its idle RSS is read. */
const IDLE_MS = 2000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function postRun(url: string): Promise<void> {
  const response = await fetch(`${url}/run`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json" },
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`Cannot run the start-up workflow: HTTP ${response.status}`);
}

/** RSS of a fresh serve of `dir`: idle, then after one run. */
async function rssAroundRun(
  dir: string,
  dataDir: string,
  options: StartServeOptions = {},
): Promise<[number, number]> {
  const serve = await startServe(dir, dataDir, options);
  try {
    await delay(IDLE_MS);
    const idle = await rssOf(serve.pid);
    await postRun(serve.url);
    await delay(IDLE_MS);
    return [idle, await rssOf(serve.pid)];
  } finally {
    await serve.stop();
  }
}

/** Runs the start-up workload. */
export async function runStartup(ctx: BenchContext): Promise<StartupResults> {
  const one = await writeProject(ctx.tmpDir, {
    name: "one-node",
    shape: "chain",
    size: 1,
    work: { kind: "noop" },
  });
  const reps = ctx.repeat.reps;
  const readyOf = async (lean: boolean) => {
    const ready: number[] = [];
    for (let i = 0; i < ctx.repeat.warmup + reps; i++) {
      const data = join(ctx.tmpDir, `ready-${lean ? "lean-" : ""}${i}`);
      const serve = await startServe(one.dir, data, { lean });
      if (i >= ctx.repeat.warmup) ready.push(serve.readyMs);
      await serve.stop();
    }
    return ready;
  };
  const ready = await readyOf(false);
  const leanReady = await readyOf(true);
  const exec: number[] = [];
  for (let i = 0; i < ctx.repeat.warmup + reps; i++) {
    const started = performance.now();
    const { code, stderr } = await new Deno.Command(join(REPO_ROOT, "pipedreamer"), {
      args: ["exec", one.dir, "-o", "json"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`Cannot exec the 1-node workflow: ${new TextDecoder().decode(stderr)}`);
    }
    if (i >= ctx.repeat.warmup) exec.push(performance.now() - started);
  }
  ctx.progress("start-up: RSS");
  const [idle, afterOne] = await rssAroundRun(one.dir, join(ctx.tmpDir, "rss-1"));
  const [leanIdle] = await rssAroundRun(one.dir, join(ctx.tmpDir, "rss-lean"), { lean: true });
  const count = 8;
  const many = await writeIsolatesProject(ctx.tmpDir, count);
  const [idleMany, afterMany] = await rssAroundRun(many.dir, join(ctx.tmpDir, "rss-8"));
  const perIsolate = ((afterMany - idleMany) - (afterOne - idle)) / (count - 1);
  const results: StartupResults = {
    serveReadyMs: summarize(ready),
    leanReadyMs: summarize(leanReady),
    leanIdleRssBytes: leanIdle,
    execMs: summarize(exec),
    idleRssBytes: idle,
    rssAfterOneNodeBytes: afterOne,
    isolates: count,
    rssPerIsolateBytes: perIsolate,
  };
  ctx.print(
    `\n### start-up (${reps} processes after ${ctx.repeat.warmup} warm-up, from source via ./pipedreamer)\n`,
  );
  ctx.print(table(["measure", "value"], [
    ["serve: spawn → /health 200, ms", fmtSummary(results.serveReadyMs)],
    ["  same server without the CLI (bench/_lean_serve.ts), ms", fmtSummary(results.leanReadyMs)],
    ["exec of a 1-node workflow, spawn → exit, ms", fmtSummary(results.execMs)],
    [`serve idle RSS (${IDLE_MS / 1000} s after ready), MiB`, mib(idle)],
    ["  same server without the CLI, MiB", mib(leanIdle)],
    ["serve RSS after a 1-node run, MiB", mib(afterOne)],
    [`RSS per distinct node isolate (${count} vs 1), MiB`, mib(perIsolate)],
  ]));
  return results;
}
