/**
 * `deno task bench [--quick] [--only <workload>[,<workload>…]] [--json <file>]`: Pipedreamer's
 * benchmarks against the anchors of issue 6, printed as Markdown tables (see BENCHMARKS.md).
 *
 * Workloads: chain-40-fibo10, chain-10-fibo33, chain-1000-noop, fanout-1000-noop (each run by
 * every system side by side), http-3node and chain-40-fibo10 through POST /run (`serve`),
 * scale (1k/10k/50k-node chain and wide DAGs), start-up (serve ready, exec, RSS), durable-peers
 * (serve with fsync and relaxed beside Restate and DBOS over HTTP: bench/workload_durable.ts).
 *
 * @module
 */

import { DAG_WORKLOADS, type DagRow, runDagWorkloads } from "./workload_dag.ts";
import { runChain40Http, runHttp3Node } from "./workload_http.ts";
import { runScale } from "./workload_scale.ts";
import { runStartup } from "./workload_startup.ts";
import { runDurablePeers } from "./workload_durable.ts";
import type { BenchContext } from "./_context.ts";

const WORKLOADS = [
  ...DAG_WORKLOADS.map((w) => w.name),
  "chain-40-fibo10-http",
  "http-3node",
  "scale",
  "start-up",
  "durable-peers",
];

const USAGE = `Usage: deno task bench [--quick] [--only <workload>[,<workload>…]] [--json <file>]
                        [--loader wrk|deno]

Workloads: ${WORKLOADS.join(", ")}
  --quick   one warm-up and two timed runs per system, smaller sizes (a smoke run)
  --only    run only these workloads (repeatable)
  --json    also write every figure to <file> as JSON
  --loader  HTTP load generator of http-3node (default: wrk when installed, else Deno fetch loops)`;

interface Args {
  quick: boolean;
  only: string[];
  json?: string;
  loader?: "wrk" | "deno";
}

function parseArgs(args: string[]): Args {
  let quick = false;
  const only: string[] = [];
  let json: string | undefined;
  let loader: "wrk" | "deno" | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--quick") quick = true;
    else if (arg === "--only" || arg === "--json" || arg === "--loader") {
      const value = args[++i];
      if (value === undefined) throw new RangeError(`Cannot parse ${arg}: it needs a value`);
      if (arg === "--json") json = value;
      else if (arg === "--loader") {
        if (value !== "wrk" && value !== "deno") {
          throw new RangeError(`Cannot use loader "${value}": use wrk or deno`);
        }
        loader = value;
      } else only.push(...value.split(",").filter((v) => v !== ""));
    } else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    } else throw new RangeError(`Cannot parse argument "${arg}"`);
  }
  for (const name of only) {
    if (!WORKLOADS.includes(name)) {
      throw new RangeError(`Cannot run workload "${name}": known ones are ${WORKLOADS.join(", ")}`);
    }
  }
  return { quick, only, json, loader };
}

/** CPU, cores, memory, Deno and the load average, so a table can be read in context. */
async function machineLine(): Promise<string> {
  const cpu = /model name\s*:\s*(.+)/.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1];
  const mem = Deno.systemMemoryInfo();
  const load = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  return `Machine: ${navigator.hardwareConcurrency} cores, ${cpu ?? "unknown CPU"}, ` +
    `${
      (mem.total / 1024 ** 3).toFixed(0)
    } GiB; Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ` +
    `load average at start: ${load}`;
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(Deno.args);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const selected = options.only.length > 0 ? options.only : [...WORKLOADS];
  const tmpDir = await Deno.makeTempDir({ prefix: "pipedreamer-bench-" });
  const ctx: BenchContext = {
    quick: options.quick,
    loader: options.loader,
    repeat: options.quick ? { warmup: 1, reps: 2, minMs: 50 } : { warmup: 2, reps: 7, minMs: 300 },
    tmpDir,
    print: (text) => console.log(text),
    progress: (text) => console.error(text),
  };
  const started = performance.now();
  const results: Record<string, unknown> = {};
  const has = (name: string) => selected.includes(name);
  ctx.print(await machineLine());
  try {
    results.dag = await runDagWorkloads(ctx, selected);
    if (has("chain-40-fibo10-http")) results.chain40Http = await runChain40Http(ctx);
    if (has("http-3node")) results.http3node = await runHttp3Node(ctx);
    if (has("scale")) results.scale = await runScale(ctx);
    if (has("start-up")) results.startup = await runStartup(ctx);
    if (has("durable-peers")) {
      results.durablePeers = await runDurablePeers(ctx, results.dag as DagRow[]);
    }
  } finally {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
  if (options.json) await Deno.writeTextFile(options.json, JSON.stringify(results, null, 2));
  ctx.print(`\nload average at the end: ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  ctx.progress(`\nbench done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

Deno.exit(await main());
