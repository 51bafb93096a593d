/**
 * durable-peers (issue 13): Pipedreamer `serve` (SQLite, `--durability full` and `relaxed`)
 * beside the durable-execution peers Restate and DBOS (bench/_peers.ts), all over HTTP on
 * loopback in the same run, every step a durable step:
 * - cold start: process spawn to the first completed 3-step run (servers included: restate-server
 *   and its SDK endpoint; PostgreSQL start and the DBOS app; PostgreSQL's one-time `initdb` is
 *   not counted);
 * - chain-40-fibo10, chain-1000 (per-step latency) and fan-out 1000, one request at a time;
 * - a 3-step no-op workflow at 1, 8, 32 and 64 in flight (runs/s, p50, p99).
 * Every answer is checked (the run's result), and wrk counts a 2xx with a wrong body as an error.
 *
 * @module
 */

import { join } from "node:path";
import { fetchLoad, hasWrk, type LoadResult, wrkLoad } from "./_load_generator.ts";
import { treeCpuMs } from "./_cpu.ts";
import {
  createPostgres,
  type Peer,
  PEER_DEPS,
  type PeerHandler,
  preparePeers,
  startDbos,
  startRestate,
} from "./_peers.ts";
import { type Project, type ProjectSpec, writeProject } from "./_projects.ts";
import { startServe } from "./_serve.ts";
import { fmt, fmtSummary, summarize, type Summary, table } from "./_stats.ts";
import type { BenchContext } from "./_context.ts";
import type { DagRow } from "./workload_dag.ts";

/** The workloads of one system. */
type Workload = "three" | "chain40" | "chain1000" | "fanout1000";

const SPECS: Record<Workload, ProjectSpec & { handler: PeerHandler; body: unknown }> = {
  three: {
    name: "durable-3step",
    shape: "chain",
    size: 3,
    work: { kind: "noop" },
    // Every request in flight runs at once, as on the peers (the default runs 10 and queues).
    concurrency: { maxRuns: 64, queueLimit: 1000 },
    handler: "three",
    body: {},
  },
  chain40: {
    name: "durable-chain-40-fibo10",
    shape: "chain",
    size: 40,
    work: { kind: "fibo", n: 10 },
    handler: "chain",
    body: { n: 40, fibo: 10 },
  },
  chain1000: {
    name: "durable-chain-1000",
    shape: "chain",
    size: 1000,
    work: { kind: "noop" },
    handler: "chain",
    body: { n: 1000, fibo: 0 },
  },
  fanout1000: {
    name: "durable-fanout-1000",
    shape: "fanout",
    size: 1000,
    work: { kind: "noop" },
    handler: "fanout",
    body: { n: 1000 },
  },
};

/** Where one workload of a started system is called. */
interface Endpoint {
  url: string;
  body: string;
  /** The system's processes (CPU time is read for them and their descendants). */
  pids(): number[];
}

/** A system of this workload, started once for all its workloads. */
interface System {
  name: string;
  durability: string;
  /** Starts the system from nothing and completes a first 3-step run; returns ms. */
  coldStart(rep: number): Promise<number>;
  /** Starts the system for the measurements. */
  open(): Promise<{ use(workload: Workload): Promise<Endpoint>; stop(): Promise<void> }>;
}

/** Figures of one system. */
export interface DurableRow {
  system: string;
  durability: string;
  coldStartMs: Summary;
  chain40Ms: Summary;
  chain1000StepUs: Summary;
  fanout1000Ms: Summary;
  levels: (LoadResult & { cpuMsPerRun: number })[];
  skipped?: string;
}

/** Figures of the workload. */
export interface DurableResults {
  rows: DurableRow[];
  tool: string;
  loadAverage: { start: number[]; end: number[] };
}

const LEVELS = [1, 8, 32, 64];

/** POSTs and checks the result; returns the elapsed ms. */
async function call(endpoint: Endpoint, expected: number, system: string): Promise<number> {
  const sent = performance.now();
  const response = await fetch(endpoint.url, {
    method: "POST",
    body: endpoint.body,
    headers: { "content-type": "application/json" },
  });
  const text = await response.text();
  const elapsed = performance.now() - sent;
  let result: unknown;
  try {
    result = (JSON.parse(text) as { result?: unknown }).result;
  } catch {
    // reported below
  }
  if (!response.ok || result !== expected) {
    throw new Error(
      `Cannot trust ${system}: ${endpoint.url} answered ${response.status} with ${
        text.slice(0, 500)
      }, expected result ${expected}`,
    );
  }
  return elapsed;
}

async function sequential(
  endpoint: Endpoint,
  expected: number,
  system: string,
  warmup: number,
  count: number,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const ms = await call(endpoint, expected, system);
    if (i >= warmup) samples.push(ms);
  }
  return samples;
}

function pipedreamerSystem(
  ctx: BenchContext,
  projects: Record<Workload, Project>,
  durability: "full" | "relaxed",
): System {
  let dirs = 0;
  const dataDir = () => join(ctx.tmpDir, `durable-${durability}-${++dirs}`);
  const body = "{}";
  return {
    name: `Pipedreamer serve, ${durability === "full" ? "durable (fsync)" : "relaxed"}`,
    durability: durability === "full"
      ? "SQLite WAL, fdatasync after every group commit before writes resolve"
      : "SQLite WAL, synchronous=NORMAL: survives kill -9, not power loss",
    async coldStart() {
      const started = performance.now();
      const serve = await startServe(projects.three.dir, dataDir(), { durability });
      try {
        await call({ url: `${serve.url}/run`, body, pids: () => [] }, 3, this.name);
        return performance.now() - started;
      } finally {
        await serve.stop();
      }
    },
    open() {
      let current: Awaited<ReturnType<typeof startServe>> | undefined;
      return Promise.resolve({
        async use(workload: Workload) {
          await current?.stop();
          current = undefined;
          const serve = current = await startServe(projects[workload].dir, dataDir(), {
            durability,
          });
          return { url: `${serve.url}/run`, body, pids: () => [serve.pid] };
        },
        async stop() {
          await current?.stop();
        },
      });
    },
  };
}

function peerSystem(
  name: string,
  durability: string,
  start: (rep: number | "main") => Promise<Peer & { cleanUp?: () => Promise<void> }>,
): System {
  return {
    name,
    durability,
    async coldStart(rep) {
      const started = performance.now();
      const peer = await start(rep);
      try {
        await call({ url: peer.url("three"), body: "{}", pids: () => [] }, 3, name);
        return performance.now() - started;
      } finally {
        await peer.stop();
      }
    },
    async open() {
      const peer = await start("main");
      return {
        use: (workload: Workload) =>
          Promise.resolve({
            url: peer.url(SPECS[workload].handler),
            body: JSON.stringify(SPECS[workload].body),
            pids: () => peer.pids(),
          }),
        stop: () => peer.stop(),
      };
    },
  };
}

async function measureSystem(
  ctx: BenchContext,
  system: System,
  useWrk: boolean,
): Promise<DurableRow> {
  const quick = ctx.quick;
  const cold: number[] = [];
  for (let rep = 0; rep < (quick ? 1 : 3); rep++) {
    ctx.progress(`durable-peers: ${system.name}: cold start ${rep + 1}`);
    cold.push(await system.coldStart(rep));
  }
  const opened = await system.open();
  try {
    ctx.progress(`durable-peers: ${system.name}: chains and fan-out`);
    const chain40 = await sequential(
      await opened.use("chain40"),
      40,
      system.name,
      quick ? 2 : 5,
      quick ? 5 : 20,
    );
    const chain1000 = await sequential(
      await opened.use("chain1000"),
      1000,
      system.name,
      1,
      quick ? 2 : 5,
    );
    const fanout = await sequential(
      await opened.use("fanout1000"),
      1000,
      system.name,
      1,
      quick ? 2 : 5,
    );
    const three = await opened.use("three");
    await call(three, 3, system.name);
    const durationMs = quick ? 1000 : 5000;
    const load = (concurrency: number, ms: number) => {
      const spec = {
        url: three.url,
        body: three.body,
        concurrency,
        durationMs: ms,
        maxRequests: 200_000,
        expect: '"result":3',
      };
      return useWrk ? wrkLoad(spec, ctx.tmpDir) : fetchLoad(spec);
    };
    await load(8, quick ? 1000 : 2000); // warm-up
    const levels: DurableRow["levels"] = [];
    for (const concurrency of LEVELS) {
      ctx.progress(`durable-peers: ${system.name}: 3-step at ${concurrency} in flight`);
      const cpuBefore = treeCpuMs(three.pids());
      const result = await load(concurrency, durationMs);
      const cpuMs = treeCpuMs(three.pids()) - cpuBefore;
      levels.push({ ...result, cpuMsPerRun: cpuMs / Math.max(1, result.ok) });
    }
    return {
      system: system.name,
      durability: system.durability,
      coldStartMs: summarize(cold),
      chain40Ms: summarize(chain40),
      // ms per run of 1000 steps is µs per step.
      chain1000StepUs: summarize(chain1000),
      fanout1000Ms: summarize(fanout),
      levels,
    };
  } finally {
    await opened.stop();
  }
}

function skippedRow(name: string, durability: string, reason: string): DurableRow {
  const empty = summarize([]);
  return {
    system: name,
    durability,
    coldStartMs: empty,
    chain40Ms: empty,
    chain1000StepUs: empty,
    fanout1000Ms: empty,
    levels: [],
    skipped: reason,
  };
}

/** Runs durable-peers; `dag` (rows of the same run, if any) adds p-graph and BullMQ. */
export async function runDurablePeers(
  ctx: BenchContext,
  dag: DagRow[] = [],
): Promise<DurableResults> {
  const loadStart = Deno.loadavg();
  const projects = {} as Record<Workload, Project>;
  for (const workload of Object.keys(SPECS) as Workload[]) {
    projects[workload] = await writeProject(ctx.tmpDir, SPECS[workload]);
  }
  const useWrk = ctx.loader === "wrk" || (ctx.loader === undefined && await hasWrk());
  const systems: (System | DurableRow)[] = [
    pipedreamerSystem(ctx, projects, "full"),
    pipedreamerSystem(ctx, projects, "relaxed"),
  ];
  const restateName = `Restate ${PEER_DEPS["@restatedev/restate-server"]} (SDK ${
    PEER_DEPS["@restatedev/restate-sdk"]
  }, ctx.run)`;
  const restateDurability = "RocksDB WAL + local log, defaults (fsync on)";
  const dbosName = `DBOS Transact ${PEER_DEPS["@dbos-inc/dbos-sdk"]} (runStep) + PostgreSQL`;
  const dbosDurability = "PostgreSQL defaults: fsync on, synchronous_commit on";
  const peers = await preparePeers();
  const postgres = "dir" in peers ? await createPostgres() : undefined;
  try {
    if ("dir" in peers) {
      const deps = peers.dir;
      systems.push(peerSystem(restateName, restateDurability, () => startRestate(deps)));
      if (postgres) {
        systems.push(peerSystem(dbosName, dbosDurability, async (rep) => {
          const port = await postgres.start();
          try {
            const peer = await startDbos(
              deps,
              `postgres://postgres@127.0.0.1:${port}/bench_${rep}`,
            );
            return {
              url: peer.url,
              pids: () => [...peer.pids(), postgres.pid() ?? -1],
              stop: async () => {
                await peer.stop();
                await postgres.stop();
              },
            };
          } catch (error) {
            await postgres.stop();
            throw error;
          }
        }));
      } else {
        systems.push(skippedRow(dbosName, dbosDurability, "PostgreSQL not installed"));
      }
    } else {
      systems.push(skippedRow(restateName, restateDurability, peers.skipped));
      systems.push(skippedRow(dbosName, dbosDurability, peers.skipped));
    }
    const rows: DurableRow[] = [];
    for (const system of systems) {
      rows.push("coldStart" in system ? await measureSystem(ctx, system, useWrk) : system);
    }
    const results: DurableResults = {
      rows,
      tool: useWrk ? "wrk" : "deno-fetch",
      loadAverage: { start: loadStart, end: Deno.loadavg() },
    };
    printResults(ctx, results, dag);
    return results;
  } finally {
    await postgres?.remove();
  }
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${fmt(a / b, 1)}×` : "—";
}

function printResults(ctx: BenchContext, results: DurableResults, dag: DagRow[]): void {
  const { rows } = results;
  const cell = (value: string, row: DurableRow) => row.skipped ? "skipped" : value;
  const level = (row: DurableRow, c: number) => row.levels.find((l) => l.concurrency === c);
  const lines: string[][] = [
    ["durability", ...rows.map((r) => r.durability)],
    [
      "cold start → first completed run, ms",
      ...rows.map((r) => cell(fmtSummary(r.coldStartMs), r)),
    ],
    ["chain-40-fibo10 over HTTP, ms/run", ...rows.map((r) => cell(fmtSummary(r.chain40Ms), r))],
    ["chain-1000 over HTTP, µs/step", ...rows.map((r) => cell(fmtSummary(r.chain1000StepUs), r))],
    ["fan-out 1000 over HTTP, ms/run", ...rows.map((r) => cell(fmtSummary(r.fanout1000Ms), r))],
  ];
  for (const c of LEVELS) {
    lines.push([
      `3-step, ${c} in flight: runs/s`,
      ...rows.map((r) => cell(fmt(level(r, c)?.runsPerSecond ?? NaN, 0), r)),
    ]);
    lines.push([
      `  p50 / p99 ms`,
      ...rows.map((r) => {
        const l = level(r, c);
        return cell(l ? `${fmt(l.p50Ms)} / ${fmt(l.p99Ms)}` : "—", r);
      }),
    ]);
    lines.push([
      `  CPU ms per run (system's processes)`,
      ...rows.map((r) => cell(fmt(level(r, c)?.cpuMsPerRun ?? NaN), r)),
    ]);
    lines.push([
      `  errors (wrong or failed answers)`,
      ...rows.map((r) => cell(String(level(r, c)?.errors ?? "—"), r)),
    ]);
  }
  ctx.print(
    `\n### durable-peers (every step durable, over HTTP on loopback; ${
      results.tool === "wrk" ? "wrk -t1" : "Deno fetch loops"
    }; load average ${results.loadAverage.start.map((l) => l.toFixed(2)).join(" ")} → ${
      results.loadAverage.end.map((l) => l.toFixed(2)).join(" ")
    })\n`,
  );
  ctx.print(table(["measure", ...rows.map((r) => r.system)], lines));
  // A chain-1000 run's ms are its µs per step.
  const dagOf = (workload: string, prefix: string) =>
    dag.find((r) => r.workload === workload && r.system.startsWith(prefix) && !r.skipped);
  const refs = ["p-graph", "BullMQ", "pipedreamer durable, pipelineHooks"].map((prefix) => [
    dagOf("chain-40-fibo10", prefix)?.system ?? prefix,
    fmt(dagOf("chain-40-fibo10", prefix)?.totalMs.median ?? NaN),
    fmt(dagOf("chain-1000-noop", prefix)?.totalMs.median ?? NaN),
    fmt(dagOf("fanout-1000-noop", prefix)?.totalMs.median ?? NaN),
  ]);
  if (dag.length > 0) {
    ctx.print(
      "\nIn-process references of the same run (no HTTP; ms per run, medians from the DAG tables):\n",
    );
    ctx.print(table(
      ["system", "chain-40-fibo10 ms", "chain-1000 µs/step", "fan-out 1000 ms"],
      refs,
    ));
  }
  const [full, , restate, dbos] = rows;
  if (!full || !restate || !dbos || restate.skipped || dbos.skipped) return;
  const runs = (r: DurableRow, c: number) => level(r, c)?.runsPerSecond ?? NaN;
  const best = (c: number) => Math.max(runs(restate, c), runs(dbos, c));
  const l8 = level(full, 8);
  const step = (r: DurableRow) => r.chain1000StepUs.median;
  const targets: [string, string, boolean][] = [
    [
      "runs/s at 8 in flight ≥ 10× Restate's and DBOS's",
      `${ratio(runs(full, 8), runs(restate, 8))} Restate, ${
        ratio(runs(full, 8), runs(dbos, 8))
      } DBOS`,
      runs(full, 8) >= 10 * best(8),
    ],
    [
      "runs/s at 32 in flight ≥ 10× Restate's and DBOS's",
      `${ratio(runs(full, 32), runs(restate, 32))} Restate, ${
        ratio(runs(full, 32), runs(dbos, 32))
      } DBOS`,
      runs(full, 32) >= 10 * best(32),
    ],
    [
      "p99 ≤ 5× p50 at 8 in flight",
      l8 ? `p99 ${fmt(l8.p99Ms)} ms = ${ratio(l8.p99Ms, l8.p50Ms)} p50 ${fmt(l8.p50Ms)} ms` : "—",
      l8 !== undefined && l8.p99Ms <= 5 * l8.p50Ms,
    ],
    [
      "chain-1000 per-step latency ≥ 20× lower than both",
      `${ratio(step(restate), step(full))} (Restate), ${ratio(step(dbos), step(full))} (DBOS)`,
      step(restate) >= 20 * step(full) && step(dbos) >= 20 * step(full),
    ],
    [
      "cold start to the first completed run ≤ 200 ms",
      `${fmt(full.coldStartMs.median)} ms`,
      full.coldStartMs.median <= 200,
    ],
  ];
  ctx.print("\nTargets of issue 13, Pipedreamer durable (fsync) against the peers of this run:\n");
  ctx.print(table(
    ["target", "measured", "met?"],
    targets.map(([t, m, ok]) => [t, m, ok ? "met" : "not met"]),
  ));
}
