/**
 * The workloads through a real `pipedreamer serve` (SQLite store, sandboxed nodes):
 * - http-3node: a 3-node no-op chain, `POST /run` driven by a load generator on loopback at
 *   increasing concurrency (runs/s, p50/p99 latency);
 * - chain-40-fibo10 via POST /run: one request at a time, end to end as a client sees it.
 *
 * @module
 */

import { join } from "node:path";
import { startServe } from "./_serve.ts";
import {
  fetchLoad,
  hasWrk,
  type LoadResult,
  sequentialLatency,
  wrkLoad,
} from "./_load_generator.ts";
import { writeProject } from "./_projects.ts";
import { rssOf } from "./_paths.ts";
import { fmt, fmtSummary, mib, type Summary, table } from "./_stats.ts";
import type { BenchContext } from "./_context.ts";

/** Figures of the http workloads. */
export interface HttpResults {
  http3node?: { levels: LoadResult[]; rssAfterBytes: number; tool: string };
  chain40?: { latencyMs: Summary; nodes: number };
}

const BODY = "{}";

/** POSTs once and checks the run result. */
async function checkRun(url: string, expected: number): Promise<void> {
  const response = await fetch(`${url}/run`, {
    method: "POST",
    body: BODY,
    headers: { "content-type": "application/json" },
  });
  const record = await response.json() as { status?: string; result?: unknown };
  if (!response.ok || record.result !== expected) {
    throw new Error(
      `Cannot benchmark serve: POST /run answered ${response.status} with status ` +
        `"${record.status}" and result ${JSON.stringify(record.result)}, expected ${expected}`,
    );
  }
}

/** http-3node: throughput and latency at increasing concurrency. */
export async function runHttp3Node(ctx: BenchContext): Promise<HttpResults["http3node"]> {
  const project = await writeProject(ctx.tmpDir, {
    name: "http-3node",
    shape: "chain",
    size: 3,
    work: { kind: "noop" },
  });
  const serve = await startServe(project.dir, join(ctx.tmpDir, "http-3node-data"));
  try {
    await checkRun(serve.url, project.expected);
    const useWrk = ctx.loader === "wrk" || (ctx.loader === undefined && await hasWrk());
    const levels = ctx.quick ? [1, 16] : [1, 2, 4, 8, 16, 32, 64];
    const durationMs = ctx.quick ? 1000 : 5000;
    const load = (concurrency: number, ms: number) => {
      const spec = {
        url: `${serve.url}/run`,
        body: BODY,
        concurrency,
        durationMs: ms,
        maxRequests: 200_000,
      };
      return useWrk ? wrkLoad(spec, ctx.tmpDir) : fetchLoad(spec);
    };
    await load(8, ctx.quick ? 1000 : 2000); // warm-up: JIT, worker, SQLite pages
    const results: LoadResult[] = [];
    for (const concurrency of levels) {
      ctx.progress(`http-3node: concurrency ${concurrency}`);
      results.push(await load(concurrency, durationMs));
    }
    const rssAfterBytes = await rssOf(serve.pid);
    ctx.print(
      `\n### http-3node (POST /run, 3-node no-op chain, serve + SQLite; ${
        useWrk ? "wrk -t1" : "Deno fetch loops"
      }, ${durationMs / 1000} s per level)\n`,
    );
    ctx.print(table(
      ["concurrency", "runs/s", "p50 ms", "p99 ms", "errors"],
      results.map((r) => [
        String(r.concurrency),
        fmt(r.runsPerSecond, 0),
        fmt(r.p50Ms),
        fmt(r.p99Ms),
        String(r.errors),
      ]),
    ));
    ctx.print(`\nserve RSS after the load: ${mib(rssAfterBytes)} MiB`);
    return { levels: results, rssAfterBytes, tool: useWrk ? "wrk" : "deno-fetch" };
  } finally {
    await serve.stop();
  }
}

/** chain-40-fibo10 through POST /run, one request at a time. */
export async function runChain40Http(ctx: BenchContext): Promise<HttpResults["chain40"]> {
  const project = await writeProject(ctx.tmpDir, {
    name: "chain-40-fibo10-http",
    shape: "chain",
    size: 40,
    work: { kind: "fibo", n: 10 },
  });
  const serve = await startServe(project.dir, join(ctx.tmpDir, "chain-40-http-data"));
  try {
    await checkRun(serve.url, project.expected);
    const count = ctx.quick ? 5 : 30;
    const { summary } = await sequentialLatency(
      `${serve.url}/run`,
      BODY,
      count,
      ctx.quick ? 2 : 10,
    );
    ctx.print(
      `\n### chain-40-fibo10 via POST /run (serve + SQLite, ${count} sequential requests)\n`,
    );
    ctx.print(table(
      ["system", "end-to-end ms, median (min–max)"],
      [["pipedreamer serve, POST /run", fmtSummary(summary)]],
    ));
    return { latencyMs: summary, nodes: project.ids.length };
  } finally {
    await serve.stop();
  }
}
